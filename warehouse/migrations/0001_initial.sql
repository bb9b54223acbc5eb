-- 0001_initial: blobs, fetches, versions, runs, sources.
CREATE TABLE sources (
    source_id       VARCHAR PRIMARY KEY,
    municipality    VARCHAR NOT NULL,
    code            VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    name            VARCHAR,
    start_urls      VARCHAR[],
    allowed_domains VARCHAR[],
    schedule        VARCHAR,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE blobs (
    sha256      VARCHAR PRIMARY KEY,
    media_type  VARCHAR,
    size        BIGINT NOT NULL,
    data        BLOB NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL
);

CREATE TABLE runs (
    run_id        VARCHAR PRIMARY KEY,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR NOT NULL,
    source_ids    VARCHAR[],
    fetched       INTEGER DEFAULT 0,
    new_versions  INTEGER DEFAULT 0,
    unchanged     INTEGER DEFAULT 0,
    not_modified  INTEGER DEFAULT 0,
    errors        INTEGER DEFAULT 0,
    error_kinds   JSON,
    message       VARCHAR
);

CREATE TABLE fetches (
    fetch_id       VARCHAR PRIMARY KEY,
    run_id         VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    requested_url  VARCHAR NOT NULL,
    fetched_at     TIMESTAMPTZ NOT NULL,
    status         INTEGER,
    etag           VARCHAR,
    last_modified  VARCHAR,
    content_type   VARCHAR,
    media_type     VARCHAR,
    sha256         VARCHAR,
    size           BIGINT,
    outcome        VARCHAR NOT NULL,
    error_kind     VARCHAR,
    error          VARCHAR,
    depth          INTEGER,
    referer        VARCHAR,
    elapsed_ms     INTEGER
);
CREATE INDEX fetches_url ON fetches (url);

CREATE TABLE versions (
    version_id     VARCHAR PRIMARY KEY,
    url            VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    media_type     VARCHAR,
    charset        VARCHAR,
    valid_from     TIMESTAMPTZ NOT NULL,
    valid_to       TIMESTAMPTZ,
    first_fetch_id VARCHAR NOT NULL
);
CREATE INDEX versions_url ON versions (url);
