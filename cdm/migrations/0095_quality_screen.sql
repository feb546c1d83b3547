-- The data-quality screen: a meter's readings refused as measured in the future are found by reason and time
-- (the clock-skew panel lists them with the meters whose clock is off), without reading every refusal of the window.
create index quarantine_reason_time on quarantine (reason, received_at desc);
