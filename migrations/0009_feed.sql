-- The event feed's transactional outbox: one row per event, written in the transaction of the change it tells of,
-- so an event exists exactly when its change committed.
--
-- Writers never take a position: `position` stays NULL until the sequencer (one lindung process at a time, under an
-- advisory lock) numbers committed rows in one statement. Only committed rows are visible to it and only one
-- sequencing transaction runs at a time, so positions become visible strictly in order and a reader of
-- `position > P` never later meets a position at or below P (docs/ARCHITECTURE.md, "The event feed: order without
-- holes").
create table feed_events (
    id bigint generated always as identity constraint feed_events_pk primary key,
    position bigint constraint feed_events_position_unique unique
        constraint feed_events_position_positive check (position > 0),
    kind text not null constraint feed_events_kind_known check (kind in (
        'worker_registered', 'worker_changed',
        'enrollment_submitted', 'enrollment_confirmed', 'enrollment_refused', 'enrollment_ended',
        'enrollment_handed_over',
        'bill_issued', 'payment_recorded', 'arrears_warning', 'lapse',
        'death_reported',
        'claim_filed', 'claim_assessed', 'claim_decided', 'claim_paid'
    )),
    occurred_at timestamptz not null default now(),
    -- The ids an agency needs to fetch the details; which are set depends on the kind.
    subsidy_id uuid,
    enrollment_id uuid,
    bill_id uuid,
    payment_id uuid,
    claim_id uuid,
    -- The bill's month, or the month whose arrears warned or lapsed.
    month date constraint feed_events_month_is_month check (extract(day from month) = 1),
    -- Only on the events about a worker as such (registered, changed, death): every agency of the audience may read
    -- this worker's NIK. The other kinds name their enrollment, bill or claim and carry no personal data.
    worker_nik text collate "C",
    -- The calendar's facts (arrears warnings, lapses) happen on a date, not on a write: emitted once per date.
    calendar_date date,
    -- The agencies that may see the event, fixed when it is written: the funders concerned and the agency that made
    -- the change. The insurer sees every event.
    audience uuid[] not null default '{}',
    constraint feed_events_calendar_has_date check ((kind in ('arrears_warning', 'lapse')) = (calendar_date is not null)),
    constraint feed_events_calendar_once unique (kind, subsidy_id, calendar_date)
);

-- What the sequencer looks for: the committed rows without a position, in id order.
create index feed_events_unsequenced on feed_events (id) where position is null;
-- What a subscriber reads: positions after its last, filtered by audience.
create index feed_events_audience on feed_events using gin (audience);
