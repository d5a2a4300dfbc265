//! Agencies on the wire: shared by every service that answers an agency (WhoAmI, a subsidy's funder).

use super::{Agency, AgencyKind};
use crate::{auth::Scope, proto::v1 as pb};

pub fn agency_to_proto(agency: &Agency) -> pb::Agency {
    pb::Agency {
        id: agency.id.to_string(),
        name: agency.name.clone(),
        kind: kind_to_proto(agency.kind) as i32,
        region_code: agency.region.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
    }
}

pub fn kind_to_proto(kind: AgencyKind) -> pb::AgencyKind {
    match kind {
        AgencyKind::City => pb::AgencyKind::City,
        AgencyKind::Province => pb::AgencyKind::Province,
        AgencyKind::Insurer => pb::AgencyKind::Insurer,
    }
}

pub fn scope_to_proto(scope: Scope) -> pb::Scope {
    match scope {
        Scope::OwnAgency => pb::Scope::Self_,
        Scope::OwnArea => pb::Scope::OwnArea,
        Scope::All => pb::Scope::All,
    }
}
