-- Readings in 30-day chunks (new chunks; those already made keep theirs). A county's clinic meter sends one or two
-- readings a day, so a 1-day chunk holds too few rows per meter for compression segmented by meter to pay: measured
-- with `cdm bench storage` on the TimescaleDB build the tests use, 1-day chunks grew from 442 to 502 bytes a
-- reading when compressed, 30-day chunks shrank to 78. Compression still waits 45 days, beyond the meters' buffer.
select set_chunk_time_interval('reading', interval '30 days');
