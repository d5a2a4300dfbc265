//! The attestation use cases: issuing one for a coverage answer, listing the keys that verify them, and checking
//! whether one still holds.

use uuid::Uuid;

use super::{Attestation, Invalid, Now, SUBJECT_KEY_LABEL, Standing, Verdict, standing, store, subject, verify};
use crate::{
    auth::Caller,
    clock,
    coverage::{self, Answer, NotCovered, Question},
    error::Error,
    signing::{self, PublicKey},
    state::AppState,
};

/// Signs `answer` to `question` as an attestation and records it (in a unit of work of its own, audited as a
/// touch of the worker). None when the question names no worker that lindung can record: a participant number
/// that no registered worker has.
#[tracing::instrument(skip_all)]
pub async fn issue(
    state: &AppState,
    caller: &Caller,
    question: &Question,
    answer: &Answer,
) -> Result<Option<String>, Error> {
    let Some(nik) = answer.worker.as_ref().or(question.nik.as_ref()) else { return Ok(None) };
    let issued_at = clock::now();
    // The token carries whole seconds; the record keeps the same instant.
    let issued_at = chrono::DateTime::from_timestamp(issued_at.timestamp(), 0).unwrap_or(issued_at);
    let mut verdict = Verdict::of(&answer.verdict);
    // The paid-through month is a detail: only those VerifyCoverage shows details to find it in the attestation.
    if let (Verdict::Covered { paid_through, .. }, None) = (&mut verdict, &answer.details) {
        *paid_through = None;
    }
    let attestation = Attestation {
        id: Uuid::new_v4(),
        subject: subject(&state.pseudonymizer.derive_key(SUBJECT_KEY_LABEL), nik),
        date: question.date,
        programme: question.programme,
        verdict,
        valid_until: super::valid_until(answer.covered_until, clock::wib_date(issued_at)),
        issued_at,
    };
    let token = attestation.sign(&state.signer);
    let mut write = state.write(caller).await?;
    let issued = store::Issued {
        id: attestation.id,
        worker_nik: nik.clone(),
        kid: state.signer.kid().to_owned(),
        issued_by: caller.agency_id(),
        issued_at,
        valid_until: attestation.valid_until,
    };
    store::insert(&mut *write, &issued).await?;
    write.touch(nik);
    write.commit().await?;
    Ok(Some(token))
}

/// Every key lindung has signed with, oldest first.
pub async fn keys(state: &AppState) -> Result<Vec<PublicKey>, Error> {
    Ok(signing::store::all(&state.pool).await?)
}

/// What CheckAttestation finds.
#[derive(Debug, Clone)]
pub enum Check {
    Invalid(Invalid),
    Expired {
        attestation: Attestation,
        kid: String,
    },
    NotRecorded {
        attestation: Attestation,
        kid: String,
    },
    /// The attestation verified and was judged again: the standing, and the verdict now.
    Judged {
        attestation: Attestation,
        kid: String,
        standing: Standing,
        now: Verdict,
    },
}

/// Verifies `token` against every key lindung has used; then, unless it has expired, judges its worker again for
/// the attested date against the store now (an audited read of the worker).
#[tracing::instrument(skip_all)]
pub async fn check(state: &AppState, caller: &Caller, token: &str) -> Result<Check, Error> {
    let keys = keys(state).await?;
    let verified = match verify(token, &keys) {
        Ok(verified) => verified,
        Err(invalid) => return Ok(Check::Invalid(invalid)),
    };
    let (attestation, kid) = (verified.attestation, verified.kid);
    if attestation.expired(clock::now()) {
        return Ok(Check::Expired { attestation, kid });
    }
    let mut read = state.read(caller).await?;
    let Some(issued) = store::find(&mut *read, attestation.id).await? else {
        read.finish().await?;
        return Ok(Check::NotRecorded { attestation, kid });
    };
    let nik = issued.worker_nik;
    let worker = coverage::store::worker(&mut *read, Some(nik.as_str()), None).await?;
    let now = match worker {
        None => Now { verdict: Verdict::NotCovered(NotCovered::NotEnrolled), covered_until: None, date_of_death: None },
        Some(worker) => {
            let (verdict, fundings) = coverage::service::judge(&mut read, &worker, attestation.date).await?;
            let covered_until = verdict
                .as_ref()
                .ok()
                .map(|c| coverage::covered_until(c, &fundings, worker.date_of_death, attestation.date));
            Now { verdict: Verdict::of(&verdict), covered_until, date_of_death: worker.date_of_death }
        }
    };
    read.look_up(&nik);
    read.finish().await?;
    let standing = standing(&attestation, &now);
    Ok(Check::Judged { attestation, kid, standing, now: now.verdict })
}
