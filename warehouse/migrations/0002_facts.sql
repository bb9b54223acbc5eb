-- 0002_facts: extracted main text and facts, keyed by (content hash, extractor version).
CREATE TABLE extractions (
    sha256            VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    extracted_at      TIMESTAMPTZ NOT NULL,
    status            VARCHAR NOT NULL,
    error             VARCHAR,
    media_type        VARCHAR,
    title             VARCHAR,
    pages             INTEGER,
    main_text         VARCHAR,
    fact_count        INTEGER NOT NULL,
    PRIMARY KEY (sha256, extractor_version)
);

CREATE TABLE facts (
    sha256            VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    seq               INTEGER NOT NULL,
    kind              VARCHAR NOT NULL,
    value             JSON,
    value_num         DOUBLE,
    text              VARCHAR NOT NULL,
    qualifier         VARCHAR,
    program           VARCHAR,
    page              INTEGER,
    start_offset      INTEGER NOT NULL,
    end_offset        INTEGER NOT NULL,
    extra             JSON,
    PRIMARY KEY (sha256, extractor_version, seq)
);

-- The newest extraction of each content hash.
CREATE VIEW latest_extractions AS
SELECT * FROM extractions e
WHERE extracted_at = (SELECT max(extracted_at) FROM extractions x WHERE x.sha256 = e.sha256);

-- Every fact of every version of every URL, with the version's validity interval.
CREATE VIEW fact_history AS
SELECT v.url, v.source_id, s.municipality, s.kind AS source_kind, v.version_id, v.valid_from, v.valid_to,
       f.program, f.kind, f.qualifier, f.value, f.value_num, f.text, f.page, f.start_offset, f.end_offset,
       f.extra, f.seq, f.sha256, f.extractor_version
FROM versions v
JOIN latest_extractions e ON e.sha256 = v.sha256
JOIN facts f ON f.sha256 = e.sha256 AND f.extractor_version = e.extractor_version
LEFT JOIN sources s ON s.source_id = v.source_id;

-- Facts of the current version of every URL.
CREATE VIEW current_facts AS
SELECT * EXCLUDE (valid_to) FROM fact_history WHERE valid_to IS NULL;
