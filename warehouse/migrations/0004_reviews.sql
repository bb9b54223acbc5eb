-- 0004_reviews: editors' decisions on changes and flags, and noise rules (the review app).

-- Every decision, kept as history; the newest per item wins (see latest_reviews).
CREATE TABLE reviews (
    review_id  VARCHAR PRIMARY KEY,
    item_type  VARCHAR NOT NULL,      -- 'change' | 'flag'
    item_key   VARCHAR NOT NULL,      -- change: '<after_version_id>:<seq>'; flag: flag_id
    status     VARCHAR NOT NULL,      -- 'reviewed' | 'noise' | 'follow_up'
    reason     VARCHAR,
    note       VARCHAR,
    reviewer   VARCHAR,
    decided_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reviews_item ON reviews (item_type, item_key);

-- Changes of a source that are never reported again (applied when selecting; nothing is deleted).
-- NULL matches anything; '' matches "no program" / "no qualifier".
CREATE TABLE noise_rules (
    rule_id     VARCHAR PRIMARY KEY,
    source_id   VARCHAR NOT NULL,
    kind        VARCHAR,
    program     VARCHAR,
    qualifier   VARCHAR,
    before_text VARCHAR,
    after_text  VARCHAR,
    pattern     VARCHAR,              -- regex on 'before_text → after_text'
    reason      VARCHAR,
    review_id   VARCHAR,              -- the dismissal it was made from
    created_by  VARCHAR,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE VIEW latest_reviews AS
SELECT item_type, item_key, status, reason, note, reviewer, decided_at, review_id
FROM reviews
QUALIFY row_number() OVER (PARTITION BY item_type, item_key ORDER BY decided_at DESC, review_id DESC) = 1;
