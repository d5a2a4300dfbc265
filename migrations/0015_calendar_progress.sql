-- The last day the feed's calendar has passed (its arrears warnings and lapses emitted), so that a deployment that
-- was down for some days emits the facts of those days when it comes back, instead of skipping them. One row.
create table feed_calendar (
    singleton boolean primary key default true constraint feed_calendar_one_row check (singleton),
    last_day date not null
);
