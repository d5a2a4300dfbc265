//! The data set, loaded set-based: `size` workers registered, enrolled under the province's subsidy, billed for
//! September 2025 and paid (the bill and payment go through the server, they are measured), and `extra` more
//! registered workers for the enrollment stream to enroll under the city's subsidy.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    agency::{self, Agency, AgencyKind, NewApiKey},
    area::RegionCode,
};

/// The n-th worker's NIK: a woman of Kota Bogor born 1970–1999, unique for n below 100 million. The same
/// expression as [`WORKERS`]'s SQL.
pub fn nik(n: u64) -> String {
    let (day, month, year, serial) = parts(n);
    format!("327101{:02}{:02}{:02}{serial:04}", day + 40, month, year % 100)
}

fn parts(n: u64) -> (u64, u64, u64, u64) {
    (n / 9999 % 28 + 1, n / (9999 * 28) % 12 + 1, 1970 + n / (9999 * 28 * 12) % 30, n % 9999 + 1)
}

const WORKERS: &str = "
    insert into workers (nik, full_name, birth_date, sex, domicile_village_code, occupation, decile, decile_source,
                         decile_as_of, flags, created_by, updated_by, participant_number)
    select '327101' || lpad((d + 40)::text, 2, '0') || lpad(m::text, 2, '0') || lpad((y % 100)::text, 2, '0')
               || lpad(s::text, 4, '0'),
           'Pekerja ' || i, make_date(y::int, m::int, d::int), 'female', '32.71.01.1001', 'trader', 2, 'DTSEN',
           '2025-07-01', '{}', $1, $1, '1' || lpad(i::text, 10, '0')
    from generate_series($2::bigint, $3::bigint - 1) i,
         lateral (select i / 9999 % 28 + 1 as d, i / (9999 * 28) % 12 + 1 as m, 1970 + i / (9999 * 28 * 12) % 30 as y,
                         i % 9999 + 1 as s) p";

const SUBSIDY: &str = "
    insert into subsidies (id, funder_id, name, legal_basis, area_code, first_month, last_month, quota, budget_ceiling,
                           jkk_monthly, jkm_monthly, max_decile, min_age, max_age, max_decile_age_quarters, request_id)
    values ($1, $2, $3, 'Keputusan (benchmark)', $4, '2025-09-01', '2026-08-01', $5, 1000000000000000, 10000, 6800, 4,
            15, 60, 2, $6)";

const ENROLLMENTS: &str = "
    insert into enrollments (id, subsidy_id, worker_nik, first_month, months, status, participant_number,
                             protection_start, request_id, created_by)
    select gen_random_uuid(), $1, nik, '2025-09-01', daterange('2025-09-01', '2026-09-01'), 'active',
           participant_number, '2025-09-01', 'seed-' || nik, $2
    from workers where participant_number::bigint - 10000000000 < $3";

/// An agency and one API key of it.
pub struct Caller {
    pub id: Uuid,
    pub key: String,
}

/// What [`load`] made.
pub struct Seeded {
    pub province: Caller,
    pub city: Caller,
    pub insurer: Caller,
    /// The province's subsidy, funding the first `size` workers.
    pub funded: Uuid,
    /// The city's subsidy, for the enrollment stream.
    pub open: Uuid,
    pub took: Duration,
}

pub async fn load(pool: &PgPool, size: u64, extra: u64) -> anyhow::Result<Seeded> {
    let start = Instant::now();
    let province = agency(pool, "Pemerintah Provinsi Jawa Barat", AgencyKind::Province, Some("32")).await?;
    let city = agency(pool, "Pemerintah Kota Bogor", AgencyKind::City, Some("32.71")).await?;
    let insurer = agency(pool, "BPJS Ketenagakerjaan", AgencyKind::Insurer, None).await?;
    let (funded, open) = (Uuid::new_v4(), Uuid::new_v4());
    // Two statements in flight at once: the machine has more than one core, one insert uses one.
    let half = (size + extra) / 2;
    let (first, second) = tokio::join!(
        sqlx::query(WORKERS).bind(province.id).bind(0_i64).bind(half as i64).execute(pool),
        sqlx::query(WORKERS).bind(province.id).bind(half as i64).bind((size + extra) as i64).execute(pool),
    );
    first?;
    second?;
    for (id, funder, name, area, quota, request) in [
        (funded, province.id, "Pekerja rentan Jawa Barat (benchmark)", "32", size, "bench-province"),
        (open, city.id, "Pekerja rentan Kota Bogor (benchmark)", "32.71", extra.max(1), "bench-city"),
    ] {
        sqlx::query(SUBSIDY)
            .bind(id)
            .bind(funder)
            .bind(name)
            .bind(area)
            .bind(i32::try_from(quota)?)
            .bind(request)
            .execute(pool)
            .await?;
    }
    sqlx::query(ENROLLMENTS).bind(funded).bind(province.id).bind(size as i64).execute(pool).await?;
    // The planner and index-only scans start from what a long-running store would have.
    sqlx::query("vacuum analyze workers, enrollments, subsidies").execute(pool).await?;
    Ok(Seeded { province, city, insurer, funded, open, took: start.elapsed() })
}

async fn agency(pool: &PgPool, name: &str, kind: AgencyKind, region: Option<&str>) -> anyhow::Result<Caller> {
    let region = region.map(RegionCode::parse).transpose()?;
    let agency = Agency::new(Uuid::new_v4(), name, kind, region)?;
    let key = NewApiKey::generate();
    let mut conn = pool.acquire().await?;
    agency::store::insert_agency(&mut conn, &agency).await?;
    agency::store::insert_api_key(&mut *conn, agency.id, &key.hash, &key.prefix).await?;
    Ok(Caller { id: agency.id, key: key.secret })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn niks_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in [0, 1, 9998, 9999, 279_971, 279_972, 3_359_663, 3_359_664, 99_999_999] {
            let nik = nik(n);
            crate::nik::Nik::parse(&nik).unwrap();
            assert!(seen.insert(nik));
        }
    }
}
