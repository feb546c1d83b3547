-- Plain PostgreSQL keeps readings in monthly partitions already (0002_readings.native.sql): nothing to change.
select 1;
