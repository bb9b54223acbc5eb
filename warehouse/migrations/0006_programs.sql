-- 0006_programs: programs (制度) as records. Every fact carries its heading path and a program id
-- (a catalog id such as 'jido-fuyo-teate', or '<municipality code>:<normalised name>' for a municipal
-- program; NULL when nothing fits); secondary sources' names of a municipality's programs map to the
-- official ids through program_aliases. Views: programs, program_facts, program_history, program_amounts_seen.
ALTER TABLE facts ADD COLUMN heading_path VARCHAR[];
ALTER TABLE facts ADD COLUMN program_id VARCHAR;
ALTER TABLE facts ADD COLUMN program_name VARCHAR;
ALTER TABLE dataset_facts ADD COLUMN program_id VARCHAR;
ALTER TABLE dataset_facts ADD COLUMN program_name VARCHAR;
ALTER TABLE fact_changes ADD COLUMN program_id VARCHAR;
ALTER TABLE flag_records ADD COLUMN program_id VARCHAR;

-- The shipped catalog (extractors/programs/catalog.toml), written by every run.
CREATE TABLE program_catalog (
    program_id  VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL,
    prefecture  VARCHAR,
    agency      VARCHAR,
    aliases     VARCHAR[],
    urls        VARCHAR[],
    synced_at   TIMESTAMPTZ NOT NULL
);

-- A secondary source's id for a municipality's program -> the id its official pages use.
CREATE TABLE program_aliases (
    code        VARCHAR NOT NULL,
    alias_id    VARCHAR NOT NULL,
    program_id  VARCHAR NOT NULL,
    name        VARCHAR,
    learnt_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (code, alias_id)
);

CREATE OR REPLACE VIEW fact_history AS
SELECT v.url, v.source_id, s.municipality, s.kind AS source_kind, v.version_id, v.valid_from, v.valid_to,
       f.program, f.kind, f.qualifier, f.value, f.value_num, f.text, f.page, f.start_offset, f.end_offset,
       f.extra, f.seq, f.sha256, f.extractor_version,
       s.code, coalesce(pa.program_id, f.program_id) AS program_id, f.program_name, f.heading_path
FROM versions v
JOIN latest_extractions e ON e.sha256 = v.sha256
JOIN facts f ON f.sha256 = e.sha256 AND f.extractor_version = e.extractor_version
LEFT JOIN sources s ON s.source_id = v.source_id
LEFT JOIN program_aliases pa ON pa.code = s.code AND pa.alias_id = f.program_id;

CREATE OR REPLACE VIEW current_facts AS
SELECT * EXCLUDE (valid_to) FROM fact_history WHERE valid_to IS NULL;

CREATE OR REPLACE VIEW secondary_facts AS
SELECT municipality, source_id, url AS origin, program, kind, qualifier, value, value_num, text, 'page' AS origin_kind,
       code, program_id, program_name, start_offset, end_offset, version_id
FROM current_facts WHERE source_kind = 'secondary'
UNION ALL
SELECT f.municipality, d.source_id, d.path AS origin, f.program, f.kind, f.qualifier, f.value, f.value_num, f.text,
       'dataset' AS origin_kind, s.code, coalesce(pa.program_id, f.program_id) AS program_id, f.program_name,
       NULL AS start_offset, NULL AS end_offset, d.dataset_id AS version_id
FROM dataset_facts f JOIN datasets d USING (dataset_id)
LEFT JOIN sources s ON s.source_id = d.source_id
LEFT JOIN program_aliases pa ON pa.code = s.code AND pa.alias_id = f.program_id
WHERE d.valid_to IS NULL;

CREATE OR REPLACE VIEW changes AS
SELECT d.url, d.source_id, s.municipality, c.program, c.kind, c.qualifier, c.change, c.before, c.after,
       c.before_text, c.after_text, d.detected_at, d.run_id, d.before_version_id, d.after_version_id,
       c.before_start, c.before_end, c.after_start, c.after_end, c.page, c.seq, c.program_id
FROM fact_changes c
JOIN version_diffs d USING (after_version_id)
LEFT JOIN sources s ON s.source_id = d.source_id;

CREATE OR REPLACE VIEW flags AS
SELECT f.rule, f.severity, f.source_id, s.municipality, f.url, f.program, f.kind, f.evidence,
       f.first_seen, f.last_seen, f.closed_at, f.close_reason, f.closed_at IS NULL AS open, f.flag_id, f.program_id
FROM flag_records f LEFT JOIN sources s ON s.source_id = f.source_id;

-- Every current statement about a program: facts of current page versions and current dataset versions.
CREATE VIEW program_facts AS
SELECT coalesce(c.name, pf.program_name) AS program_name, pf.* EXCLUDE (program_name)
FROM (
    SELECT program_id, program_name, municipality, code, source_id, source_kind, 'page' AS origin_kind, url,
           version_id, valid_from, kind, qualifier, value, value_num, text, page, start_offset, end_offset,
           heading_path, program
    FROM current_facts WHERE program_id IS NOT NULL
    UNION ALL
    SELECT f.program_id, f.program_name, f.municipality, f.code, f.source_id, 'secondary', 'dataset', f.origin,
           f.version_id, d.valid_from, f.kind, f.qualifier, f.value, f.value_num, f.text, NULL, NULL, NULL,
           NULL, f.program
    FROM secondary_facts f JOIN datasets d ON d.dataset_id = f.version_id
    WHERE f.origin_kind = 'dataset' AND f.program_id IS NOT NULL
) pf
LEFT JOIN program_catalog c USING (program_id);

-- Every fact of every version that belongs to a program, with the version's validity.
CREATE VIEW program_history AS
SELECT h.program_id, coalesce(c.name, h.program_name) AS program_name, h.municipality, h.code, h.source_id,
       h.source_kind, h.url, h.version_id, h.valid_from, h.valid_to, h.kind, h.qualifier, h.value, h.value_num,
       h.text, h.page, h.start_offset, h.end_offset, h.heading_path
FROM fact_history h LEFT JOIN program_catalog c USING (program_id)
WHERE h.program_id IS NOT NULL;

-- One row per program x municipality that any page or dataset (current or past) states something about.
CREATE VIEW programs AS
WITH h AS (
    SELECT program_id, program_name, municipality, code, source_kind, url, valid_from, valid_to
    FROM fact_history WHERE program_id IS NOT NULL
    UNION ALL
    SELECT f.program_id, f.program_name, f.municipality, s.code, 'secondary', d.path, d.valid_from, d.valid_to
    FROM dataset_facts f JOIN datasets d USING (dataset_id) LEFT JOIN sources s ON s.source_id = d.source_id
    WHERE f.program_id IS NOT NULL
), m AS (
    SELECT program_id, municipality, any_value(code) AS code,
           mode(program_name) FILTER (source_kind = 'official') AS official_name, mode(program_name) AS any_name,
           list(DISTINCT url ORDER BY url) FILTER (source_kind = 'official' AND valid_to IS NULL) AS official_urls,
           list(DISTINCT url ORDER BY url) FILTER (source_kind <> 'official' AND valid_to IS NULL) AS secondary_urls,
           min(valid_from) AS first_seen,
           max(CASE WHEN valid_to IS NULL THEN now() ELSE valid_to END) AS last_seen,
           max(valid_from) AS last_changed,
           count(*) FILTER (valid_to IS NULL) AS current_facts
    FROM h GROUP BY program_id, municipality
)
SELECT m.program_id, coalesce(c.name, m.official_name, m.any_name) AS name,
       coalesce(c.scope, 'municipal') AS scope, m.municipality, m.code,
       coalesce(m.official_urls, []) AS official_urls, coalesce(m.secondary_urls, []) AS secondary_urls,
       m.first_seen, m.last_seen, m.last_changed, m.current_facts, c.urls AS catalog_urls
FROM m LEFT JOIN program_catalog c USING (program_id);

-- The amounts official pages state for national programs, per fiscal year (年度 = April 1 - March 31)
-- of the page version that states them: what "the warehouse learns" beside the catalog's table.
CREATE VIEW program_amounts_seen AS
SELECT h.program_id, h.qualifier,
       CAST(year(h.valid_from - INTERVAL 3 MONTH) AS INTEGER) AS fiscal_year,
       CAST(h.value_num AS BIGINT) AS yen, count(DISTINCT h.url) AS pages, count(DISTINCT h.municipality) AS municipalities,
       min(h.valid_from) AS first_seen
FROM fact_history h JOIN program_catalog c USING (program_id)
WHERE h.kind = 'amount' AND h.source_kind = 'official' AND c.scope = 'national' AND h.value_num IS NOT NULL
GROUP BY ALL;
