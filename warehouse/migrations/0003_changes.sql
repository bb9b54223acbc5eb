-- 0003_changes: version diffs, fact changes, flags, secondary datasets, analyst views.

-- One row per new version: how it compares with its baseline (the previous good version).
CREATE TABLE version_diffs (
    after_version_id  VARCHAR PRIMARY KEY,
    before_version_id VARCHAR,
    url               VARCHAR NOT NULL,
    source_id         VARCHAR NOT NULL,
    detected_at       TIMESTAMPTZ NOT NULL,
    run_id            VARCHAR,
    response_class    VARCHAR NOT NULL,
    change_class      VARCHAR NOT NULL,
    before_update_date VARCHAR,
    after_update_date VARCHAR,
    added             INTEGER NOT NULL,
    removed           INTEGER NOT NULL,
    changed           INTEGER NOT NULL,
    text_diff         JSON,
    extractor_version VARCHAR,
    computed_at       TIMESTAMPTZ NOT NULL
);

-- One row per fact added, removed or changed between a version and its baseline.
CREATE TABLE fact_changes (
    after_version_id VARCHAR NOT NULL,
    seq              INTEGER NOT NULL,
    program          VARCHAR,
    kind             VARCHAR NOT NULL,
    qualifier        VARCHAR,
    change           VARCHAR NOT NULL,
    before           JSON,
    after            JSON,
    before_text      VARCHAR,
    after_text       VARCHAR,
    before_start     INTEGER,
    before_end       INTEGER,
    after_start      INTEGER,
    after_end        INTEGER,
    page             INTEGER,
    PRIMARY KEY (after_version_id, seq)
);

-- Flags on outdated program data; open while closed_at IS NULL.
CREATE TABLE flag_records (
    flag_id    VARCHAR PRIMARY KEY,
    rule       VARCHAR NOT NULL,
    severity   VARCHAR NOT NULL,
    source_id  VARCHAR,
    url        VARCHAR,
    program    VARCHAR,
    kind       VARCHAR,
    evidence   JSON,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    closed_at  TIMESTAMPTZ,
    close_reason VARCHAR
);

-- Structured program datasets imported as secondary sources (one row per imported file version).
CREATE TABLE datasets (
    dataset_id  VARCHAR PRIMARY KEY,
    source_id   VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,
    format      VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    records     INTEGER NOT NULL,
    facts       INTEGER NOT NULL,
    valid_from  TIMESTAMPTZ NOT NULL,
    valid_to    TIMESTAMPTZ
);

CREATE TABLE dataset_facts (
    dataset_id   VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,
    record_id    VARCHAR,
    municipality VARCHAR,
    program      VARCHAR,
    kind         VARCHAR NOT NULL,
    qualifier    VARCHAR,
    value        JSON,
    value_num    DOUBLE,
    text         VARCHAR,
    field        VARCHAR,
    PRIMARY KEY (dataset_id, seq)
);

-- Every URL wardwatch knows, with its current state.
CREATE VIEW documents AS
SELECT u.url, u.source_id, s.municipality, s.kind AS source_kind,
       cv.version_id AS current_version_id, cv.sha256, cv.media_type, cv.valid_from AS current_since,
       u.first_seen, u.last_fetched, u.last_status, u.last_outcome, u.version_count,
       e.title, e.status AS extraction_status
FROM (
    SELECT f.url, arg_max(f.source_id, f.fetched_at) AS source_id, min(f.fetched_at) AS first_seen,
           max(f.fetched_at) AS last_fetched, arg_max(f.status, f.fetched_at) AS last_status,
           arg_max(f.outcome, f.fetched_at) AS last_outcome,
           (SELECT count(*) FROM versions v WHERE v.url = f.url) AS version_count
    FROM fetches f WHERE f.error_kind IS DISTINCT FROM 'robots' GROUP BY f.url
) u
LEFT JOIN versions cv ON cv.url = u.url AND cv.valid_to IS NULL
LEFT JOIN latest_extractions e ON e.sha256 = cv.sha256
LEFT JOIN sources s ON s.source_id = u.source_id;

-- Fact-level changes between consecutive good versions of a URL.
CREATE VIEW changes AS
SELECT d.url, d.source_id, s.municipality, c.program, c.kind, c.qualifier, c.change, c.before, c.after,
       c.before_text, c.after_text, d.detected_at, d.run_id, d.before_version_id, d.after_version_id,
       c.before_start, c.before_end, c.after_start, c.after_end, c.page, c.seq
FROM fact_changes c
JOIN version_diffs d USING (after_version_id)
LEFT JOIN sources s ON s.source_id = d.source_id;

-- Flags with their source's municipality; open = closed_at IS NULL.
CREATE VIEW flags AS
SELECT f.rule, f.severity, f.source_id, s.municipality, f.url, f.program, f.kind, f.evidence,
       f.first_seen, f.last_seen, f.closed_at, f.close_reason, f.closed_at IS NULL AS open, f.flag_id
FROM flag_records f LEFT JOIN sources s ON s.source_id = f.source_id;

-- What secondary sources (pages of kind 'secondary' and imported datasets) currently state.
CREATE VIEW secondary_facts AS
SELECT municipality, source_id, url AS origin, program, kind, qualifier, value, value_num, text, 'page' AS origin_kind
FROM current_facts WHERE source_kind = 'secondary'
UNION ALL
SELECT f.municipality, d.source_id, d.path AS origin, f.program, f.kind, f.qualifier, f.value, f.value_num, f.text,
       'dataset' AS origin_kind
FROM dataset_facts f JOIN datasets d USING (dataset_id) WHERE d.valid_to IS NULL;

-- Per municipality and program: how many facts, changes and open flags.
CREATE VIEW program_summary AS
WITH cf AS (
    SELECT municipality, program, count(*) AS facts, count(DISTINCT url) AS pages,
           count(*) FILTER (kind = 'amount') AS amounts, max(valid_from) AS last_changed
    FROM current_facts WHERE source_kind = 'official' GROUP BY ALL
), ch AS (
    SELECT municipality, program, count(*) AS fact_changes, max(detected_at) AS last_fact_change
    FROM changes GROUP BY ALL
), fl AS (
    SELECT municipality, program, count(*) AS open_flags FROM flags WHERE open GROUP BY ALL
)
SELECT coalesce(cf.municipality, ch.municipality, fl.municipality) AS municipality,
       coalesce(cf.program, ch.program, fl.program) AS program,
       coalesce(cf.pages, 0) AS pages, coalesce(cf.facts, 0) AS facts, coalesce(cf.amounts, 0) AS amounts,
       coalesce(ch.fact_changes, 0) AS fact_changes, ch.last_fact_change, coalesce(fl.open_flags, 0) AS open_flags
FROM cf
FULL OUTER JOIN ch ON ch.municipality IS NOT DISTINCT FROM cf.municipality AND ch.program IS NOT DISTINCT FROM cf.program
FULL OUTER JOIN fl ON fl.municipality IS NOT DISTINCT FROM coalesce(cf.municipality, ch.municipality)
                  AND fl.program IS NOT DISTINCT FROM coalesce(cf.program, ch.program);

-- One row per flag evaluation: which pages were re-checked and what opened/closed.
CREATE TABLE flag_evaluations (
    evaluated_at TIMESTAMPTZ NOT NULL,
    today        DATE NOT NULL,
    scope        VARCHAR NOT NULL,
    documents    INTEGER NOT NULL,
    opened       INTEGER NOT NULL,
    closed       INTEGER NOT NULL
);
