-- What the county and township screens read instead of aggregating every patient on every refresh (a county
-- of 260,000 patients took ~0.7 s a query): colour counts, indicators and the daily colour moves per township
-- and team, written by the `refresh_indicators` job (every minute). The screens stay live: they add to the
-- counts and to today's mix the assessment_history rows written since (history.id > the watermark).

create table screen_colour_base (
    township_id  integer not null references region (id),
    team_id      integer not null default 0,       -- 0: patients of no team
    managed      integer not null,
    red          integer not null,
    yellow       integer not null,
    green        integer not null,
    not_assessed integer not null,
    primary key (township_id, team_id)
);

create table screen_indicator (
    township_id integer not null references region (id),
    team_id     integer not null default 0,
    name        text not null,
    numerator   integer not null,
    denominator integer not null,
    primary key (township_id, team_id, name)
);

-- Net colour moves per local day (Asia/Shanghai midnight), township and team: +1 into colour, -1 out of
-- previous_colour, for each assessment_history row up to summary_refresh.history_id.
create table screen_colour_daily (
    day         timestamptz not null,
    township_id integer not null references region (id),
    team_id     integer not null default 0,
    red         integer not null default 0,
    yellow      integer not null default 0,
    green       integer not null default 0,
    primary key (day, township_id, team_id)
);

-- The history rows folded into each summary: counts (base) and daily moves.
alter table summary_refresh add column history_id bigint not null default 0;
