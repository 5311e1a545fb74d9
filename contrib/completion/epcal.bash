# bash completion for epcal(1)                             -*- shell-script -*-
# Installed as share/bash-completion/completions/epcal; works with or
# without the bash-completion package.

_epcal_files() {
    # $1: a glob for the files the command reads (directories always).
    local IFS=$'\n'
    COMPREPLY+=($(compgen -d -- "$cur"))
    COMPREPLY+=($(compgen -f -X "!$1" -- "$cur"))
}

_epcal() {
    local cur prev cmd i
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    # Subcommands; to add one, name it here and give it a case below.
    local commands="generate list check serve"
    # Options mean the same to every command that takes them (the table in
    # src/cli/options.c); these are the ones every CSV reader but serve has.
    local filters="--show --season --from --to --past-days --future-days
        --premieres-only --finales-only --no-specials
        --delimiter --date-format --encoding --column --keep-titles --skip-invalid"

    cmd=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done

    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
        return 0
    fi

    # Values of options that take one.
    case $prev in
        --delimiter)
            COMPREPLY=($(compgen -W ", ; '|' tab" -- "$cur"))
            return 0 ;;
        --format)
            COMPREPLY=($(compgen -W "table csv json" -- "$cur"))
            return 0 ;;
        --split)
            COMPREPLY=($(compgen -W "season show" -- "$cur"))
            return 0 ;;
        --progress)
            COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
            return 0 ;;
        --column)
            # FIELD=HEADER: the fields epcal reads; the header is the user's.
            COMPREPLY=($(compgen -W "show= season= episode= code= air_date=
                title= description= url= network= uid= air_time= timezone=
                runtime= status=" -- "$cur"))
            compopt -o nospace 2>/dev/null
            return 0 ;;
        --threads)
            COMPREPLY=($(compgen -W "auto 1 2" -- "$cur"))
            return 0 ;;
        --encoding)
            COMPREPLY=($(compgen -W "UTF-8 UTF-16LE UTF-16BE WINDOWS-1252 ISO-8859-1 ISO-8859-15" -- "$cur"))
            return 0 ;;
        --output-dir|--state)
            COMPREPLY=($(compgen -d -- "$cur"))
            return 0 ;;
        -o|--output|--previous)
            _epcal_files '*.ics'
            return 0 ;;
        --show|--season|--date-format|--calendar-name|--from|--to|\
        --past-days|--future-days|--wait|--timezone|--runtime|--alarm|\
        --summary|--description|--category|--calendar-description|\
        --refresh|--color|--url|--listen|--token|--max-connections|\
        --timeout|--base-url|--per-address-limit|--header-timeout|\
        --cache-size|--max-removed|--max-feed-events)
            return 0 ;;
    esac

    local opts
    case $cmd in
        generate)
            opts="-o --output --calendar-name --previous --split --output-dir
                --prune --wait --progress --threads --force --allow-shrink
                --max-removed $filters
                --timezone --runtime --all-day --alarm --summary --description
                --category --calendar-description --refresh --color --url
                -v --verbose -h --help" ;;
        list)
            opts="--format $filters -h --help" ;;
        check)
            opts="--json --max-errors -q --quiet -v --verbose -h --help" ;;
        serve)
            opts="--listen --base-url --token --refresh --max-connections
                --per-address-limit --header-timeout --timeout --threads
                --cache-size --state --max-removed --allow-shrink
                --max-feed-events --no-stream
                --calendar-name --show --season --delimiter
                --date-format --encoding --column --keep-titles --skip-invalid
                --timezone --runtime --all-day
                --alarm --summary --description --category
                --calendar-description --color --url -h --help" ;;
        *)
            return 0 ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $cmd == check ]]; then
        _epcal_files '*.ics'
    else
        _epcal_files '*.[ct]sv'
    fi
    return 0
}
complete -F _epcal -o filenames epcal
