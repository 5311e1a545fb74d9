/*
 * The property the fuzz target checks, shared with the corpus driver that
 * CTest runs in every build (gcc too, without libFuzzer).
 *
 * Input layout: byte 0 chooses a chunk size, byte 1 the read options, the
 * rest is CSV. Printable prefixes keep corpus files readable: "00" means
 * chunks of 49 bytes and default options.
 *
 *   byte 0: chunk size 1 + (byte % 64)
 *   byte 1: bits 0-1 delimiter (detect, ',', ';', TAB);
 *           bits 2-3 date format (none, %d/%m/%Y, %m/%d/%Y, %Y.%m.%d);
 *           bit 4 a default show, bit 5 a default season (single-show
 *           tables), bit 6 the column "notes" named as the title;
 *           bit 7 Windows-1252
 *
 * A violation prints what went wrong to standard error and aborts, so that
 * libFuzzer keeps the input and CTest reports a failure.
 */
#ifndef EPCAL_FUZZ_PROPERTY_H
#define EPCAL_FUZZ_PROPERTY_H

#include <stddef.h>
#include <stdint.h>

/* Checks the property over `data` laid out as above. */
void fuzz_check_input(const uint8_t *data, size_t size);

/*
 * Checks the property over data[2, size) read in chunks of `chunk` bytes
 * (ignoring byte 0): the corpus driver tries several chunk sizes per file.
 */
void fuzz_check_input_chunked(const uint8_t *data, size_t size, size_t chunk);

#endif
