-- 0005_source_switchboard: a source's municipal switchboard (代表電話), from the registry's optional
-- `switchboard`; phones printed without an area code on its pages take that area code.
ALTER TABLE sources ADD COLUMN switchboard VARCHAR;
