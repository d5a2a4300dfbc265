//! The one place lindung reads the clock. Domain rules take the date as an argument; handlers and services ask
//! here, so that what "today" means (the civil date in WIB, where the contribution calendar runs) is decided once.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Western Indonesia Time (UTC+7), where the contribution calendar runs.
pub const WIB: FixedOffset = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");

/// Today's civil date in WIB.
pub fn today() -> NaiveDate {
    now().with_timezone(&WIB).date_naive()
}

/// The current instant.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The civil date in WIB of an instant.
pub fn wib_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&WIB).date_naive()
}
