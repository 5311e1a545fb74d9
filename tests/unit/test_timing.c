/*
 * Timed releases: times of day, durations, zones (wall clock <-> UTC with
 * RFC 5545's rules for skipped and repeated times), templates, colours,
 * and a rendered timed feed judged by libical (its VTIMEZONE must give
 * the instants we meant).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/color.h"
#include "read/date.h"
#include "ical_oracle.h"
#include "ical_tz.h"
#include "render/template.h"
#include "read/timeparse.h"

/* Seconds since the epoch of a wall-clock or UTC time. */
static int64_t at(int y, int mo, int d, int h, int mi) {
  epcal_date date = {y, mo, d};
  return epcal__date_to_days(date) * 86400 + h * 3600 + mi * 60;
}

static void times_of_day(void **state) {
  (void)state;
  int32_t secs = -1;
  bool utc = true;
  assert_int_equal(epcal__time_parse("21:00", &secs, &utc), EPCAL__TIME_OK);
  assert_int_equal(secs, 21 * 3600);
  assert_false(utc);
  assert_int_equal(epcal__time_parse("9:05:30Z", &secs, &utc), EPCAL__TIME_OK);
  assert_int_equal(secs, 9 * 3600 + 5 * 60 + 30);
  assert_true(utc);
  assert_int_equal(epcal__time_parse("00:00", &secs, &utc), EPCAL__TIME_OK);
  assert_int_equal(secs, 0);
  assert_int_equal(epcal__time_parse("23:59:59", &secs, &utc), EPCAL__TIME_OK);
  assert_int_equal(secs, 86399);

  static const char *const syntax[] = {
      "",        "21",          "21:0",    "2100",  "9pm",    "21:00 ",
      "21:00:0", "21:00:00:00", "21:00ZZ", "-1:00", "121:00", "21:00+01"};
  for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++) {
    secs = 7;
    if (epcal__time_parse(syntax[i], &secs, &utc) != EPCAL__TIME_SYNTAX) {
      fail_msg("\"%s\" was not refused as syntax", syntax[i]);
    }
    assert_int_equal(secs, 7); /* untouched on failure */
  }
  static const char *const range[] = {"24:00", "23:60", "23:59:60", "99:99"};
  for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
    if (epcal__time_parse(range[i], &secs, &utc) != EPCAL__TIME_RANGE) {
      fail_msg("\"%s\" was not refused as out of range", range[i]);
    }
  }
}

static void expect_duration(const char *text, int64_t want, const char *canon) {
  int64_t secs = 0;
  char out[32];
  if (!epcal__duration_parse(text, &secs, out, sizeof out)) {
    fail_msg("\"%s\" was refused", text);
  }
  assert_int_equal(secs, want);
  assert_string_equal(out, canon);
}

static void durations(void **state) {
  (void)state;
  expect_duration("-PT30M", -1800, "-PT30M");
  expect_duration("-P1D", -86400, "-P1D");
  expect_duration("P2W", 14 * 86400, "P2W");
  expect_duration("-p1dt2h", -(86400 + 7200), "-P1DT2H");
  expect_duration("+PT1H30M15S", 5415, "+PT1H30M15S");
  expect_duration("PT0S", 0, "PT0S");
  expect_duration("PT90M", 5400, "PT90M");
  expect_duration("P1DT5S", 86405, "P1DT5S");

  /* The peers' favourite mistakes and other non-durations. */
  static const char *const bad[] = {
      "",        "P",     "-P",    "PT",     "P1DT", "P1H",
      "PT1H30S", "P1W2D", "P1D2H", "PT1.5H", "1D",   "-PT30M ",
      "--PT1M",  "PT-1M", "PT1HM", "P1Y",    "P1M",  "PT1234567890S",
      "PTS",     "PT1H1H"};
  char out[32];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t secs = 0;
    if (epcal__duration_parse(bad[i], &secs, out, sizeof out)) {
      fail_msg("\"%s\" was accepted", bad[i]);
    }
  }
  /* Too long for the caller's buffer. */
  assert_false(epcal__duration_parse("PT1H", &(int64_t){0}, out, 4));
}

static void zone_lookup(void **state) {
  (void)state;
  const epcal__zone *ny = epcal__zone_find("America/New_York");
  assert_non_null(ny);
  assert_string_equal(epcal__zone_name(ny), "America/New_York");
  assert_false(epcal__zone_is_utc(ny));
  assert_ptr_equal(epcal__zone_find("America/New_York"), ny);
  assert_non_null(epcal__zone_find("Asia/Kolkata"));
  assert_true(epcal__zone_is_utc(epcal__zone_find("UTC")));
  static const char *const unknown[] = {"America/Gotham",
                                        "america/new_york",
                                        "",
                                        "America/New_York ",
                                        "../../../etc/passwd",
                                        "/usr/share/zoneinfo/UTC",
                                        "Europe/../UTC",
                                        "Nowhere"};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    if (epcal__zone_find(unknown[i]) != NULL) {
      fail_msg("\"%s\" was found", unknown[i]);
    }
  }
}

static void wall_clock_to_utc(void **state) {
  (void)state;
  const epcal__zone *ny = epcal__zone_find("America/New_York");
  bool once = false;
  /* 21:00 in New York: 02:00 UTC the next day in winter, 01:00 in summer. */
  assert_int_equal(epcal__zone_to_utc(ny, at(2024, 1, 15, 21, 0), &once),
                   at(2024, 1, 16, 2, 0));
  assert_true(once);
  assert_int_equal(epcal__zone_to_utc(ny, at(2024, 7, 15, 21, 0), NULL),
                   at(2024, 7, 16, 1, 0));
  /* 02:30 on 2024-03-10 does not exist: the offset before the gap (EST)
   * makes it 07:30 UTC, which the clock shows as 03:30 EDT. */
  assert_int_equal(epcal__zone_to_utc(ny, at(2024, 3, 10, 2, 30), &once),
                   at(2024, 3, 10, 7, 30));
  assert_false(once);
  /* The edges of the gap: 01:59 EST and 03:00 EDT. */
  assert_int_equal(epcal__zone_to_utc(ny, at(2024, 3, 10, 1, 59), NULL),
                   at(2024, 3, 10, 6, 59));
  assert_int_equal(epcal__zone_to_utc(ny, at(2024, 3, 10, 3, 0), NULL),
                   at(2024, 3, 10, 7, 0));
  /* 01:30 on 2024-11-03 happens twice: the first (EDT) is meant. */
  assert_int_equal(epcal__zone_to_utc(ny, at(2024, 11, 3, 1, 30), &once),
                   at(2024, 11, 3, 5, 30));
  assert_false(once);
  /* 00:59 and 02:00 that day occur once. */
  epcal__zone_to_utc(ny, at(2024, 11, 3, 0, 59), &once);
  assert_true(once);
  epcal__zone_to_utc(ny, at(2024, 11, 3, 2, 0), &once);
  assert_true(once);
  assert_int_equal(epcal__zone_to_local(ny, at(2024, 11, 3, 6, 30)),
                   at(2024, 11, 3, 1, 30));
  /* A zone east of UTC, over a year boundary. */
  const epcal__zone *tokyo = epcal__zone_find("Asia/Tokyo");
  assert_int_equal(epcal__zone_to_utc(tokyo, at(2025, 1, 1, 0, 30), NULL),
                   at(2024, 12, 31, 15, 30));
  /* Half-hour offsets, and a southern summer. */
  assert_int_equal(epcal__zone_to_utc(epcal__zone_find("Asia/Kolkata"),
                                      at(2024, 6, 1, 20, 0), NULL),
                   at(2024, 6, 1, 14, 30));
  assert_int_equal(epcal__zone_to_utc(epcal__zone_find("Australia/Sydney"),
                                      at(2024, 1, 10, 20, 0), NULL),
                   at(2024, 1, 10, 9, 0));
}

/* The fall-back hours the feeds write in UTC, in zones that change by an
 * hour and by half an hour, and the spring-forward gaps. */
static void repeated_and_skipped_times(void **state) {
  (void)state;
  static const struct {
    const char *zone;
    int y, mo, d, h, mi; /* wall clock */
    bool once;
    int uy, umo, ud, uh, umi; /* UTC: the first occurrence, or the offset
                                 before a gap */
  } cases[] = {
      {"Europe/London", 2024, 10, 27, 1, 30, false, 2024, 10, 27, 0, 30},
      {"Europe/London", 2024, 10, 27, 2, 0, true, 2024, 10, 27, 2, 0},
      {"Europe/London", 2024, 3, 31, 1, 30, false, 2024, 3, 31, 1, 30},
      {"Australia/Lord_Howe", 2024, 4, 7, 1, 45, false, 2024, 4, 6, 14, 45},
      {"Australia/Lord_Howe", 2024, 4, 7, 1, 29, true, 2024, 4, 6, 14, 29},
      {"Australia/Lord_Howe", 2024, 10, 6, 2, 15, false, 2024, 10, 5, 15, 45},
      {"America/New_York", 2024, 3, 10, 2, 0, false, 2024, 3, 10, 7, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bool once = !cases[i].once;
    int64_t utc = epcal__zone_to_utc(
        epcal__zone_find(cases[i].zone),
        at(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi),
        &once);
    assert_int_equal(utc, at(cases[i].uy, cases[i].umo, cases[i].ud,
                             cases[i].uh, cases[i].umi));
    assert_int_equal(once, cases[i].once);
  }
}

/* An event that would start before 0001 or end after 9999, as wall-clock
 * time or in UTC, is out of the years a DATE-TIME can hold. */
static void spans_stay_in_four_digit_years(void **state) {
  (void)state;
  const epcal__zone *tokyo = epcal__zone_find("Asia/Tokyo");
  const epcal__zone *ny = epcal__zone_find("America/New_York");
  epcal__span s;
  epcal__zone_span(NULL, at(9999, 12, 30, 22, 0), 3600, &s);
  assert_true(epcal__span_in_years(&s));
  epcal__zone_span(NULL, at(9999, 12, 31, 23, 30), 3600, &s);
  assert_false(epcal__span_in_years(&s));
  epcal__zone_span(NULL, at(9999, 12, 30, 10, 30), 100000 * 60, &s);
  assert_false(epcal__span_in_years(&s));
  /* 17:00 in New York is 22:00 UTC; three hours later it is 10000 there. */
  epcal__zone_span(ny, at(9999, 12, 31, 17, 0), 3600, &s);
  assert_true(epcal__span_in_years(&s));
  epcal__zone_span(ny, at(9999, 12, 31, 17, 0), 3 * 3600, &s);
  assert_false(epcal__span_in_years(&s));
  /* 00:30 in Tokyo on the first day is still year 0 in UTC. */
  epcal__zone_span(tokyo, at(1, 1, 1, 0, 30), 3600, &s);
  assert_false(epcal__span_in_years(&s));
  epcal__zone_span(tokyo, at(1, 1, 2, 0, 30), 3600, &s);
  assert_true(epcal__span_in_years(&s));
}

static char *expand(const char *tmpl, const epcal_episode *ep) {
  epcal__template *t = NULL;
  epcal_error err;
  if (epcal__template_compile(&t, tmpl, "--summary", &err) != EPCAL_OK) {
    fail_msg("\"%s\": %s", tmpl, err.msg);
  }
  epcal__buf b = {0};
  epcal__template_expand(t, ep, &b);
  epcal__template_free(t);
  return b.data;
}

/* Numbers are formatted by hand for the common 0..99: every value and width
 * must give what snprintf gives. */
static void template_numbers_match_snprintf(void **state) {
  (void)state;
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  ep.show = "S";
  for (long v = -120; v <= 1200; v++) {
    ep.season = v;
    ep.number = 1300 - v;
    for (int width = 0; width <= 4; width++) {
      char tmpl[64], want[128];
      if (width == 0) {
        snprintf(tmpl, sizeof tmpl, "{season}.{episode}.{code}");
      } else {
        snprintf(tmpl, sizeof tmpl, "{season:0%d}.{episode:0%d}.{code}",
                 width, width);
      }
      snprintf(want, sizeof want, "%0*ld.%0*ld.S%02ldE%02ld", width, v, width,
               1300 - v, v, 1300 - v);
      char *got = expand(tmpl, &ep);
      assert_string_equal(got, want);
      free(got);
    }
  }
}

static void templates(void **state) {
  (void)state;
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  ep.show = "Picard";
  ep.season = 2;
  ep.number = 1;
  ep.title = "The Star Gazer";
  ep.network = "Paramount+";
  char *s = expand("{show} {season}x{episode:02} – {title} ({network})", &ep);
  assert_string_equal(s, "Picard 2x01 – The Star Gazer (Paramount+)");
  free(s);
  s = expand("{code}|{season:03}|{episode:01}|{{}}|{description}|{url}|", &ep);
  assert_string_equal(s, "S02E01|002|1|{}|||");
  free(s);
  s = expand("", &ep);
  assert_string_equal(s, "");
  free(s);
  ep.number = 123;
  s = expand("{episode:02}", &ep);
  assert_string_equal(s, "123"); /* a width is a minimum */
  free(s);

  epcal_episode none;
  memset(&none, 0, sizeof none);
  none.show = "X";
  s = expand("[{title}][{network}]", &none);
  assert_string_equal(s, "[][]");
  free(s);

  static const char *const bad[][2] = {
      {"{show", "unmatched '{'"},           {"show}", "unmatched '}'"},
      {"{seasn}", "unknown field {seasn}"}, {"{title:02}", "bad format"},
      {"{season:2}", "bad format"},         {"{season:00}", "bad format"},
      {"{season:010}", "bad format"},       {"{}", "unknown field {}"},
      {"{episode:1}", "bad format"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    epcal__template *t = NULL;
    epcal_error err;
    assert_int_equal(epcal__template_compile(&t, bad[i][0], "--summary", &err),
                     EPCAL_EUSAGE);
    assert_null(t);
    if (strstr(err.msg, bad[i][1]) == NULL ||
        strstr(err.msg, "--summary") == NULL) {
      fail_msg("\"%s\": message \"%s\" lacks \"%s\"", bad[i][0], err.msg,
               bad[i][1]);
    }
  }
}

static void colors(void **state) {
  (void)state;
  const char *name = NULL;
  char hex[8];
  assert_true(epcal__color_parse("DarkOrange", &name, hex));
  assert_string_equal(name, "darkorange");
  assert_string_equal(hex, "#FF8C00");
  assert_true(epcal__color_parse("#ff8c00", &name, hex));
  assert_string_equal(name, "darkorange");
  assert_true(epcal__color_parse("#FF8C01", &name, hex));
  assert_string_equal(name, "darkorange"); /* the nearest name */
  assert_string_equal(hex, "#FF8C01");     /* the exact colour */
  assert_true(epcal__color_parse("#0f0", &name, hex));
  assert_string_equal(name, "lime");
  assert_string_equal(hex, "#00FF00");
  assert_true(epcal__color_parse("rebeccapurple", &name, hex));
  assert_string_equal(hex, "#663399");
  assert_true(epcal__color_parse("gray", &name, hex));
  assert_string_equal(hex, "#808080"); /* CSS, not X11's #BEBEBE */
  static const char *const bad[] = {
      "", "#", "#12345", "#1234567", "#ggg", "orangish", "red ", "darkorangex"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (epcal__color_parse(bad[i], &name, hex)) {
      fail_msg("\"%s\" was accepted", bad[i]);
    }
  }
}

/* Renders timed events and lets libical convert them with the feed's own
 * VTIMEZONE. */
static void rendered_feed_decodes_in_utc(void **state) {
  (void)state;
  membuf m = {0};
  epcal_render_options ro;
  memset(&ro, 0, sizeof ro);
  ro.now = 1700000000;
  ro.timezone = "America/New_York";
  ro.runtime = 30;
  epcal_renderer *r;
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, &m, NULL),
                   EPCAL_OK);
  assert_int_equal(epcal_renderer_begin(r, NULL), EPCAL_OK);
  static const struct {
    epcal_date date;
    int hour, minute;
  } rows[] = {
      {{2024, 1, 15}, 21, 0}, {{2024, 7, 15}, 21, 0},
      {{2024, 3, 10}, 2, 30}, /* does not exist: in UTC, 07:30 */
      {{2024, 11, 3}, 1, 30}, /* happens twice: in UTC, the first (EDT) */
      {{2024, 11, 3}, 0, 45}, /* ends at 01:15 the first time: in UTC */
  };
  int64_t want[5] = {at(2024, 1, 16, 2, 0), at(2024, 7, 16, 1, 0),
                     at(2024, 3, 10, 7, 30), at(2024, 11, 3, 5, 30),
                     at(2024, 11, 3, 4, 45)};
  /* Which of DTSTART and DTEND carry the zone's TZID. */
  bool zoned_start[5] = {true, true, false, false, true};
  bool zoned_end[5] = {true, true, false, false, false};
  for (long i = 0; i < 5; i++) {
    epcal_episode ep;
    memset(&ep, 0, sizeof ep);
    ep.show = "Night";
    ep.season = 1;
    ep.number = i + 1;
    ep.scheduled = true;
    ep.date = rows[i].date;
    ep.timed = true;
    ep.time = rows[i].hour * 3600 + rows[i].minute * 60;
    assert_int_equal(epcal_renderer_add(r, &ep, NULL), EPCAL_OK);
  }
  assert_int_equal(epcal_renderer_end(r, NULL), EPCAL_OK);
  epcal_renderer_free(r);
  const char *text = membuf_str(&m);
  oracle_check_lines(text, strlen(text));
  assert_null(strstr(text, "freeassociation"));

  icalcomponent *cal = oracle_parse(text);
  assert_int_equal(
      icalcomponent_count_components(cal, ICAL_VTIMEZONE_COMPONENT), 1);
  /* libical resolves TZIDs against the feed's VTIMEZONEs. */
  icalcomponent *vtz =
      icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
  icaltimezone *zone = icaltimezone_new();
  assert_true(icaltimezone_set_component(zone, icalcomponent_new_clone(vtz)));
  assert_string_equal(icaltimezone_get_tzid(zone), "America/New_York");
  int i = 0;
  for (icalcomponent *ev =
           icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
       ev != NULL;
       ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
    icalproperty *p =
        icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    icalparameter *tzid =
        icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    assert_int_equal(tzid != NULL, zoned_start[i]);
    if (tzid != NULL) {
      assert_string_equal(icalparameter_get_tzid(tzid), "America/New_York");
    }
    struct icaltimetype t = icalproperty_get_dtstart(p);
    assert_int_equal(icaltime_is_utc(t), !zoned_start[i]);
    int64_t utc = (int64_t)icaltime_as_timet_with_zone(
        t, zoned_start[i] ? zone : icaltimezone_get_utc_timezone());
    assert_int_equal(utc, want[i]);
    icalproperty *pe =
        icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
    assert_int_equal(
        icalproperty_get_first_parameter(pe, ICAL_TZID_PARAMETER) != NULL,
        zoned_end[i]);
    struct icaltimetype end = icalproperty_get_dtend(pe);
    assert_int_equal(icaltime_is_utc(end), !zoned_end[i]);
    assert_int_equal(
        (int64_t)icaltime_as_timet_with_zone(
            end, zoned_end[i] ? zone : icaltimezone_get_utc_timezone()) -
            utc,
        30 * 60);
    i++;
  }
  assert_int_equal(i, 5);
  icaltimezone_free(zone, 1);
  icalcomponent_free(cal);
  membuf_free(&m);
}

static void renderer_refuses_bad_options(void **state) {
  (void)state;
  static const char *const alarms[] = {"-PT30M", "P1DT"};
  epcal_render_options ro;
  epcal_renderer *r = NULL;
  epcal_error err;
  memset(&ro, 0, sizeof ro);
  ro.timezone = "Mars/Base";
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, NULL, &err),
                   EPCAL_EUSAGE);
  assert_non_null(strstr(err.msg, "Mars/Base"));

  memset(&ro, 0, sizeof ro);
  ro.alarms = alarms;
  ro.n_alarms = 2;
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, NULL, &err),
                   EPCAL_EUSAGE);
  assert_non_null(strstr(err.msg, "\"P1DT\""));

  /* A reminder 30 minutes into the episode is never what PT30M meant. */
  static const char *const unsigned_alarm[] = {"PT0S", "+PT5M", "PT30M"};
  memset(&ro, 0, sizeof ro);
  ro.alarms = unsigned_alarm;
  ro.n_alarms = 3;
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, NULL, &err),
                   EPCAL_EUSAGE);
  assert_string_equal(err.msg, "alarm \"PT30M\" has no sign: write -PT30M "
                               "for a reminder before the start (+PT30M: "
                               "after it)");
  ro.n_alarms = 2;
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, NULL, &err),
                   EPCAL_OK);
  epcal_renderer_free(r);
  r = NULL;

  memset(&ro, 0, sizeof ro);
  ro.refresh = "PT0S";
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, NULL, &err),
                   EPCAL_EUSAGE);

  memset(&ro, 0, sizeof ro);
  ro.color = "#12";
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, NULL, &err),
                   EPCAL_EUSAGE);

  memset(&ro, 0, sizeof ro);
  ro.calendar_description = "bad \xC3 UTF-8";
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, NULL, &err),
                   EPCAL_EUSAGE);
  assert_null(r);

  /* A timed row without any zone is a data error naming its line. */
  memset(&ro, 0, sizeof ro);
  membuf m = {0};
  assert_int_equal(epcal_renderer_new(&r, &ro, membuf_write, &m, NULL),
                   EPCAL_OK);
  epcal_episode ep;
  memset(&ep, 0, sizeof ep);
  ep.show = "S";
  ep.scheduled = true;
  ep.date = (epcal_date){2024, 1, 1};
  ep.timed = true;
  ep.file = "in.csv";
  ep.line = 7;
  assert_int_equal(epcal_renderer_add(r, &ep, &err), EPCAL_EDATA);
  assert_int_equal(err.line, 7);
  assert_string_equal(err.file, "in.csv");
  ep.utc = true; /* 00:00Z needs no zone */
  assert_int_equal(epcal_renderer_add(r, &ep, &err), EPCAL_OK);
  epcal_renderer_free(r);
  membuf_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(times_of_day),
      cmocka_unit_test(durations),
      cmocka_unit_test(zone_lookup),
      cmocka_unit_test(wall_clock_to_utc),
      cmocka_unit_test(repeated_and_skipped_times),
      cmocka_unit_test(spans_stay_in_four_digit_years),
      cmocka_unit_test(templates),
      cmocka_unit_test(template_numbers_match_snprintf),
      cmocka_unit_test(colors),
      cmocka_unit_test(rendered_feed_decodes_in_utc),
      cmocka_unit_test(renderer_refuses_bad_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
