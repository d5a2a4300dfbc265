//! pb <-> domain for the AuditService, and the inclusion proof back from the wire (so that a holder's copy is
//! checked by the same pure [`chain::check_proof`]).

use chrono::{DateTime, Utc};

use super::{
    Entry, Subject,
    chain::{self, Batch, Checkpoint, Hash, InclusionProof, Record},
    service::{self, Listing, RecordKey},
};
use crate::{
    agency::convert::kind_to_proto,
    error::{Error, FieldViolation},
    nik::Nik,
    paging,
    proto::{convert::timestamp, v1 as pb},
};

/// A listing's range and page, with every bad field named.
pub fn listing(range: Option<&pb::TimeRange>, page: Option<&pb::PageRequest>) -> Result<Listing, Error> {
    let mut violations = Vec::new();
    let mut time = |field: &str, value: Option<&prost_types::Timestamp>| match value {
        None => None,
        Some(ts) => {
            let at = u32::try_from(ts.nanos).ok().and_then(|nanos| DateTime::<Utc>::from_timestamp(ts.seconds, nanos));
            if at.is_none() {
                violations.push(FieldViolation::new(field, crate::msg!(TIMESTAMP_INVALID)));
            }
            at
        }
    };
    let from = time("time_range.start_time", range.and_then(|r| r.start_time.as_ref()));
    let to = time("time_range.end_time", range.and_then(|r| r.end_time.as_ref()));
    let page = page.cloned().unwrap_or_default();
    let after = match page.page_token.as_str() {
        "" => None,
        token => {
            let after = service::after(token);
            if after.is_none() {
                violations.push(FieldViolation::new("page.page_token", crate::msg!(PAGE_TOKEN_INVALID)));
            }
            after
        }
    };
    if !violations.is_empty() {
        return Err(Error::InvalidArgument(violations));
    }
    Ok(Listing { from, to, after, limit: paging::limit(&page) })
}

pub fn nik(value: &str) -> Result<Nik, Error> {
    Nik::parse(value).map_err(|e| Error::invalid("nik", e.message()))
}

pub fn record_key(request: &pb::GetInclusionProofRequest) -> Result<RecordKey, Error> {
    use pb::get_inclusion_proof_request::Record as Which;
    match request.record {
        Some(Which::Seq(seq)) if seq >= 0 => Ok(RecordKey::Seq(seq)),
        Some(Which::Id(id)) if id > 0 => Ok(RecordKey::Id(id)),
        Some(Which::Seq(_)) => Err(Error::invalid("seq", crate::msg!(SEQ_NEGATIVE))),
        Some(Which::Id(_)) => Err(Error::invalid("id", crate::msg!(ID_NOT_POSITIVE))),
        None => Err(Error::invalid("record", crate::msg!(REQUIRED_RECORD))),
    }
}

pub fn entry_to_proto(entry: &Entry) -> pb::AuditRecord {
    let record = &entry.record;
    pb::AuditRecord {
        id: record.id,
        seq: entry.seq,
        time: Some(timestamp(record.at)),
        agency: record.agency_id.map(|id| pb::AuditAgency {
            id: id.to_string(),
            name: entry.agency.as_ref().map(|(name, _)| name.clone()).unwrap_or_default(),
            kind: entry.agency.as_ref().map_or(pb::AgencyKind::Unspecified, |(_, kind)| kind_to_proto(*kind)) as i32,
        }),
        method: record.method.clone(),
        request_id: record.request_id.clone(),
        correlation_id: record.correlation_id.clone().unwrap_or_default(),
        outcome: record.outcome.clone(),
        subject_hash: record.subject.map(|s| s.0.to_vec()).unwrap_or_default(),
    }
}

fn batch_to_proto(batch: &Batch) -> pb::AuditBatch {
    pb::AuditBatch {
        batch: batch.batch,
        first_seq: batch.first_seq,
        last_seq: batch.last_seq,
        root: batch.root.to_vec(),
        chain: batch.chain.to_vec(),
    }
}

pub fn proof_to_proto(entry: &Entry, proof: &InclusionProof) -> pb::GetInclusionProofResponse {
    let checkpoint = &proof.checkpoint;
    pb::GetInclusionProofResponse {
        record: Some(entry_to_proto(entry)),
        leaf: chain::leaf(proof.seq, &proof.record).to_vec(),
        batch: Some(batch_to_proto(&proof.batch)),
        audit_path: proof.path.iter().map(|h| h.to_vec()).collect(),
        previous_chain: proof.previous_chain.to_vec(),
        links: proof.links.iter().map(batch_to_proto).collect(),
        checkpoint: Some(pb::AuditCheckpoint {
            id: checkpoint.id,
            batch: checkpoint.batch,
            last_seq: checkpoint.last_seq,
            chain: checkpoint.chain.to_vec(),
            signed_at: Some(timestamp(checkpoint.signed_at)),
            kid: checkpoint.kid.clone(),
            signature: checkpoint.signature.clone(),
        }),
    }
}

/// A proof as received, back into the domain; None when a part is missing or malformed (such a proof fails).
pub fn proof_from_proto(response: &pb::GetInclusionProofResponse) -> Option<InclusionProof> {
    let hash = |bytes: &[u8]| Hash::try_from(bytes).ok();
    let time = |ts: &prost_types::Timestamp| DateTime::<Utc>::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?);
    let batch = |b: &pb::AuditBatch| {
        Some(Batch {
            batch: b.batch,
            first_seq: b.first_seq,
            last_seq: b.last_seq,
            root: hash(&b.root)?,
            chain: hash(&b.chain)?,
        })
    };
    let record = response.record.as_ref()?;
    let checkpoint = response.checkpoint.as_ref()?;
    let subject = match record.subject_hash.as_slice() {
        [] => None,
        bytes => Some(Subject(hash(bytes)?)),
    };
    let agency_id = match &record.agency {
        Some(agency) => Some(uuid::Uuid::parse_str(&agency.id).ok()?),
        None => None,
    };
    Some(InclusionProof {
        seq: record.seq?,
        record: Record {
            id: record.id,
            at: time(record.time.as_ref()?)?,
            agency_id,
            method: record.method.clone(),
            request_id: record.request_id.clone(),
            correlation_id: Some(record.correlation_id.clone()).filter(|c| !c.is_empty()),
            outcome: record.outcome.clone(),
            subject,
        },
        batch: batch(response.batch.as_ref()?)?,
        path: response.audit_path.iter().map(|h| hash(h)).collect::<Option<_>>()?,
        previous_chain: hash(&response.previous_chain)?,
        links: response.links.iter().map(batch).collect::<Option<_>>()?,
        checkpoint: Checkpoint {
            id: checkpoint.id,
            batch: checkpoint.batch,
            last_seq: checkpoint.last_seq,
            chain: hash(&checkpoint.chain)?,
            signed_at: time(checkpoint.signed_at.as_ref()?)?,
            kid: checkpoint.kid.clone(),
            signature: checkpoint.signature.clone(),
        },
    })
}
