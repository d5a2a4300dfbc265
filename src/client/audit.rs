//! `lindung audit prove`: one record's inclusion proof, fetched from a running server and checked here with the
//! same pure function that documents the proof (`audit::chain::check_proof`), so that nothing of the server's word
//! is taken but the public key, and not even that with `--public-key`.

use anyhow::Context;

use crate::{
    audit::{chain, convert},
    config::ProveArgs,
    proto::v1::{
        self as pb, attestation_service_client::AttestationServiceClient, audit_service_client::AuditServiceClient,
        get_inclusion_proof_request::Record,
    },
    signing::PublicKey,
};

/// Checks the proof of the record `--position` (or `--id`) against `trusted`, else against the key of the server's
/// list that signed the checkpoint; prints what was proved.
pub async fn prove(args: ProveArgs, trusted: Option<PublicKey>) -> anyhow::Result<()> {
    let channel = super::connect(&args.server).await?;
    let record = match (args.position, args.id) {
        (Some(seq), _) => Record::Seq(seq),
        (None, Some(id)) => Record::Id(id),
        (None, None) => anyhow::bail!("give --position or --id"),
    };
    let response = AuditServiceClient::new(channel.clone())
        .get_inclusion_proof(pb::GetInclusionProofRequest { record: Some(record) })
        .await
        .map_err(|status| {
            anyhow::anyhow!("the server gave no proof: {}", super::Refusal::from_call(&status).message_en)
        })?
        .into_inner();
    let proof = convert::proof_from_proto(&response).context("the proof is incomplete or malformed")?;
    let key = match trusted {
        Some(key) => key,
        None => {
            let keys = AttestationServiceClient::new(channel)
                .list_signing_keys(pb::ListSigningKeysRequest {})
                .await
                .context("listing the server's signing keys")?
                .into_inner()
                .keys;
            keys.iter()
                .filter_map(|k| <[u8; 32]>::try_from(k.public_key.as_slice()).ok().map(PublicKey::new))
                .find(|k| k.kid == proof.checkpoint.kid)
                .with_context(|| {
                    format!("the server lists no key {} that signed the checkpoint", proof.checkpoint.kid)
                })?
        }
    };
    chain::check_proof(&proof, &key).map_err(|e| anyhow::anyhow!("the proof does not hold: {e}"))?;
    let (record, checkpoint) = (&proof.record, &proof.checkpoint);
    println!(
        "record seq {} (id {}, {} at {}, {}) is in the audit chain: batch {}, under the checkpoint of batch {} \
         (records seq 0..={}) signed {} by key {}",
        proof.seq,
        record.id,
        record.method,
        record.at.to_rfc3339(),
        record.outcome,
        proof.batch.batch,
        checkpoint.batch,
        checkpoint.last_seq,
        checkpoint.signed_at.to_rfc3339(),
        key.kid
    );
    Ok(())
}
