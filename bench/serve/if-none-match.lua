-- wrk script: every request carries If-None-Match with the feed's current
-- ETag (from the ETAG environment variable), so the server answers 304, as
-- it does to a calendar app polling a feed that has not changed.
wrk.headers["If-None-Match"] = os.getenv("ETAG")
