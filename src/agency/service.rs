//! The agency use cases: what a caller may do.

use super::AgencyKind;
use crate::auth::{self, Rpc, Scope};

/// Every RPC an agency of `kind` may call, with the scope it may call it in, in the order of [`auth::TABLE`].
#[tracing::instrument(skip_all)]
pub fn permissions(kind: AgencyKind) -> Vec<(Rpc, Scope)> {
    auth::TABLE.iter().filter_map(|(rpc, _)| auth::scope(kind, *rpc).map(|scope| (*rpc, scope))).collect()
}

/// Why an agency could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddAgencyError {
    #[error("an agency named {0:?} already exists")]
    NameTaken(String),
    #[error("area {0} is not in the Kemendagri list")]
    UnknownRegion(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Stores a new agency, telling a taken name and an unknown region apart from other failures.
#[tracing::instrument(skip_all)]
pub async fn add(conn: &mut sqlx::PgConnection, agency: &super::Agency) -> Result<(), AddAgencyError> {
    match super::store::insert_agency(conn, agency).await {
        Ok(()) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("agencies_name_unique") => {
            Err(AddAgencyError::NameTaken(agency.name.clone()))
        }
        Err(sqlx::Error::Database(e))
            if matches!(e.constraint(), Some("agencies_province_fk" | "agencies_regency_fk")) =>
        {
            let region = agency.region.as_ref().map_or("", crate::area::RegionCode::as_str);
            Err(AddAgencyError::UnknownRegion(region.to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}
