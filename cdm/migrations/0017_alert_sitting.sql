-- Sittings (issue 3 item 4): a critical BP reading alerts at once; once the sitting that holds it is complete,
-- the alert records whether the sitting's mean also met the urgent criterion. Null: not complete yet, or not a
-- BP alert.
alter table alert
    add column sitting_confirmed  boolean,
    -- While the sitting is open: when the passing gap alone will close it (its last reading + the gap), so that a
    -- batch looks only at the sittings that time has closed (year 9999: no critical BP reading to judge).
    add column sitting_open_until timestamptz;
-- The alerts still waiting for their sitting: ingest looks them up at every batch.
create index alert_sitting_pending on alert (sitting_open_until)
    where sitting_confirmed is null and 'bp_critical' = any (reasons);
