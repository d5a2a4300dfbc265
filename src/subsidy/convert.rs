//! Subsidies on the wire.

use super::{Stored, SubsidyInput, Usage};
use crate::{
    agency::convert::agency_to_proto,
    proto::{
        convert::{rupiah, timestamp},
        v1 as pb,
    },
};

pub fn from_proto(subsidy: pb::Subsidy) -> SubsidyInput {
    let contribution = subsidy.contribution.unwrap_or_default();
    let eligibility = subsidy.eligibility.unwrap_or_default();
    SubsidyInput {
        name: subsidy.name,
        legal_basis: subsidy.legal_basis,
        area_code: subsidy.area_code,
        first_month: subsidy.first_month,
        last_month: subsidy.last_month,
        quota: subsidy.quota,
        budget_ceiling: subsidy.budget_ceiling.map(|r| r.amount).unwrap_or_default(),
        jkk: contribution.jkk.map(|r| r.amount).unwrap_or_default(),
        jkm: contribution.jkm.map(|r| r.amount).unwrap_or_default(),
        max_decile: eligibility.max_decile,
        min_age: eligibility.min_age,
        max_age: eligibility.max_age,
        max_decile_age_quarters: eligibility.max_decile_age_quarters,
    }
}

pub fn to_proto(stored: &Stored) -> pb::Subsidy {
    let subsidy = &stored.subsidy;
    pb::Subsidy {
        id: subsidy.id.to_string(),
        funder: Some(agency_to_proto(&stored.funder)),
        name: subsidy.name.clone(),
        legal_basis: subsidy.legal_basis.clone(),
        area_code: subsidy.area.as_str().to_owned(),
        first_month: subsidy.first_month.to_string(),
        last_month: subsidy.last_month.to_string(),
        quota: subsidy.quota,
        budget_ceiling: Some(rupiah(subsidy.budget_ceiling)),
        contribution: Some(pb::Contribution {
            jkk: Some(rupiah(subsidy.contribution.jkk)),
            jkm: Some(rupiah(subsidy.contribution.jkm)),
            total: Some(rupiah(subsidy.contribution.total())),
        }),
        eligibility: Some(pb::Eligibility {
            max_decile: u32::from(subsidy.eligibility.max_decile),
            min_age: u32::from(subsidy.eligibility.min_age),
            max_age: u32::from(subsidy.eligibility.max_age),
            max_decile_age_quarters: u32::from(subsidy.eligibility.max_decile_age_quarters),
        }),
        create_time: Some(timestamp(stored.created_at)),
    }
}

pub fn usage_to_proto(subsidy_id: uuid::Uuid, usage: &Usage) -> pb::GetSubsidyUsageResponse {
    pb::GetSubsidyUsageResponse {
        subsidy_id: subsidy_id.to_string(),
        active: usage.active,
        pending: usage.pending,
        quota_left: usage.quota_left,
        budget_committed: Some(rupiah(usage.budget_committed)),
        budget_left: Some(rupiah(usage.budget_left)),
        monthly_commitment: Some(rupiah(usage.monthly_commitment)),
    }
}
