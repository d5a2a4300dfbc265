//! Workers on the wire: requests in, workers and outcomes out.

use chrono::NaiveDate;

use super::{DeathReport, Flag, ListFilter, Occupation, Reported, Sex, WorkerInput, service::Upserted, store};
use crate::{
    area::RegionCode,
    clock::today,
    error::{Error, FieldViolation, to_rpc_status},
    paging,
    proto::{
        convert::{rupiah, timestamp},
        v1 as pb,
    },
};

/// The tag of ListWorkers page tokens, whose key is the last NIK of a page.
pub const PAGE_TAG: &str = "w1";

pub fn from_proto(worker: pb::Worker) -> WorkerInput {
    let welfare = worker.welfare.unwrap_or_default();
    WorkerInput {
        sex: match pb::Sex::try_from(worker.sex) {
            Ok(pb::Sex::Male) => Some(Sex::Male),
            Ok(pb::Sex::Female) => Some(Sex::Female),
            _ => None,
        },
        occupation: match pb::Occupation::try_from(worker.occupation) {
            Ok(pb::Occupation::Trader) => Some(Occupation::Trader),
            Ok(pb::Occupation::Construction) => Some(Occupation::Construction),
            Ok(pb::Occupation::Tailor) => Some(Occupation::Tailor),
            Ok(pb::Occupation::Driver) => Some(Occupation::Driver),
            Ok(pb::Occupation::Farmer) => Some(Occupation::Farmer),
            Ok(pb::Occupation::Fisher) => Some(Occupation::Fisher),
            Ok(pb::Occupation::Domestic) => Some(Occupation::Domestic),
            Ok(pb::Occupation::Other) => Some(Occupation::Other),
            Ok(pb::Occupation::Unspecified) | Err(_) => None,
        },
        nik: worker.nik,
        full_name: worker.full_name,
        birth_date: worker.birth_date,
        domicile_village_code: worker.domicile_village_code,
        occupation_detail: worker.occupation_detail,
        decile: welfare.decile,
        decile_source: welfare.source,
        decile_as_of_quarter: welfare.as_of_quarter,
        phone: worker.phone,
        date_of_death: worker.date_of_death,
    }
}

pub fn to_proto(w: store::StoredWorker) -> pb::Worker {
    let sex = match w.sex {
        crate::nik::Sex::Male => pb::Sex::Male,
        crate::nik::Sex::Female => pb::Sex::Female,
    };
    let occupation = match w.occupation {
        Occupation::Trader => pb::Occupation::Trader,
        Occupation::Construction => pb::Occupation::Construction,
        Occupation::Tailor => pb::Occupation::Tailor,
        Occupation::Driver => pb::Occupation::Driver,
        Occupation::Farmer => pb::Occupation::Farmer,
        Occupation::Fisher => pb::Occupation::Fisher,
        Occupation::Domestic => pb::Occupation::Domestic,
        Occupation::Other => pb::Occupation::Other,
    };
    pb::Worker {
        nik: w.nik.as_str().to_owned(),
        full_name: w.full_name,
        birth_date: w.birth_date.to_string(),
        sex: sex as i32,
        domicile_village_code: w.domicile_village_code,
        occupation: occupation as i32,
        occupation_detail: w.occupation_detail.unwrap_or_default(),
        welfare: Some(pb::Welfare {
            decile: u32::try_from(w.decile).unwrap_or_default(),
            source: w.decile_source,
            as_of_quarter: super::Quarter::from_date(w.decile_as_of.first_day()).to_string(),
        }),
        phone: w.phone.unwrap_or_default(),
        date_of_death: w.date_of_death.map(|d| d.to_string()).unwrap_or_default(),
        warnings: w.flags.iter().copied().map(warning).collect(),
        record: Some(pb::RecordInfo {
            created_by_agency_id: w.created_by.to_string(),
            create_time: Some(timestamp(w.created_at)),
            updated_by_agency_id: w.updated_by.to_string(),
            update_time: Some(timestamp(w.updated_at)),
        }),
    }
}

fn warning(flag: Flag) -> pb::Warning {
    let field = match flag {
        Flag::NikBirthDateMismatch => "worker.birth_date",
        Flag::NikSexMismatch => "worker.sex",
        Flag::NikPrefixUnknown => "worker.nik",
    };
    pb::Warning {
        code: flag.code().to_owned(),
        field: field.to_owned(),
        message: flag.description().render(crate::messages::current()),
    }
}

pub fn outcome_to_proto(outcome: store::Outcome) -> pb::UpsertOutcome {
    match outcome {
        store::Outcome::Created => pb::UpsertOutcome::Created,
        store::Outcome::Updated => pb::UpsertOutcome::Updated,
        store::Outcome::Unchanged => pb::UpsertOutcome::Unchanged,
    }
}

pub fn row_response(index: u64, client_ref: String, result: Upserted) -> pb::UpsertWorkersResponse {
    match result {
        Upserted::Stored { outcome, flags } => pb::UpsertWorkersResponse {
            index,
            client_ref,
            result: Some(pb::upsert_workers_response::Result::Outcome(outcome_to_proto(outcome) as i32)),
            warnings: flags.iter().map(|f| warning(*f)).collect(),
        },
        Upserted::Refused(error) => pb::UpsertWorkersResponse {
            index,
            client_ref,
            result: Some(pb::upsert_workers_response::Result::Error(to_rpc_status(error))),
            warnings: Vec::new(),
        },
    }
}

/// A death report, or every violation of it.
pub fn death_report(request: &pb::ReportDeathRequest) -> Result<DeathReport, Error> {
    let mut violations = Vec::new();
    let nik = super::Nik::parse(&request.worker_nik)
        .map_err(|e| violations.push(FieldViolation::new("worker_nik", e.message())))
        .ok();
    let died: Option<NaiveDate> = match crate::date::not_after("date_of_death", &request.date_of_death, today()) {
        Ok(date) => Some(date),
        Err(violation) => {
            violations.push(violation);
            None
        }
    };
    let certificate = request.certificate_number.trim();
    if !crate::validate::printable(certificate, 100) {
        violations.push(FieldViolation::new("certificate_number", crate::msg!(CERTIFICATE_FORMAT_DEATH)));
    }
    match (nik, died) {
        (Some(nik), Some(died)) if violations.is_empty() => {
            Ok(DeathReport { nik, date_of_death: died, certificate_number: certificate.to_owned() })
        }
        _ => Err(Error::InvalidArgument(violations)),
    }
}

pub fn reported_to_proto(reported: Reported) -> pb::ReportDeathResponse {
    pb::ReportDeathResponse {
        date_of_death: reported.date_of_death.to_string(),
        certificate_number: reported.certificate_number,
        recorded_now: reported.recorded_now,
        changed_enrollment_ids: reported.changed_enrollments.iter().map(ToString::to_string).collect(),
        refunds: reported
            .refunds
            .into_iter()
            .map(|refund| pb::Refund {
                subsidy_id: refund.subsidy_id.to_string(),
                month: refund.month.to_string(),
                amount: Some(rupiah(refund.amount)),
            })
            .collect(),
    }
}

/// The filters of a ListWorkers call, or every violation of them.
pub fn list_filter(request: &pb::ListWorkersRequest) -> Result<ListFilter, Error> {
    let mut violations = Vec::new();
    let area = if request.area_code.is_empty() {
        None
    } else {
        match RegionCode::parse(&request.area_code) {
            Ok(area) => Some(area),
            Err(e) => {
                violations.push(FieldViolation::new("area_code", e.message()));
                None
            }
        }
    };
    let max_decile = match request.max_decile {
        0 => None,
        d @ 1..=10 => Some(d as i16),
        d => {
            violations.push(FieldViolation::new("max_decile", crate::msg!(DECILE_RANGE_FILTER, decile = d)));
            None
        }
    };
    let page = request.page.clone().unwrap_or_default();
    let after_nik = if page.page_token.is_empty() {
        String::new()
    } else {
        match paging::key(PAGE_TAG, &page.page_token).filter(|nik| super::Nik::parse(nik).is_ok()) {
            Some(nik) => nik,
            None => {
                if let Error::InvalidArgument(v) = paging::invalid_token() {
                    violations.extend(v);
                }
                String::new()
            }
        }
    };
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    Ok(ListFilter { area, max_decile, after_nik, limit: paging::limit(&page) })
}
