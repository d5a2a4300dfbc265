//! The audit chain, pure: how a record is hashed, how a batch's records make a Merkle tree, how batches chain, what
//! a checkpoint signs, and the checks `lindung audit verify` and an offline holder of an inclusion proof run.
//!
//! Hashing follows RFC 6962 §2.1 (certificate transparency): a leaf is `SHA-256(0x00 || record)`, an inner node
//! `SHA-256(0x01 || left || right)`, a tree of `n` leaves splits at the largest power of two below `n`. Batches chain
//! as `SHA-256(0x02 || previous chain || root || first_seq || last_seq)`, so a batch cannot be dropped, reordered
//! or given another range without every later chain value changing. The tree is written out here (it is short)
//! because it is built from the leaf hashes the store keeps, batch by batch, and the same functions check a proof
//! offline.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Subject;
use crate::signing::PublicKey;

pub type Hash = [u8; 32];

/// The chain value before the first batch.
pub const GENESIS: Hash = [0; 32];

/// Version of the canonical record encoding; a new encoding gets a new number and old leaves keep theirs. A record
/// without a correlation id encodes as version 1 (so every leaf sealed before correlation ids existed still
/// verifies); one with a correlation id as version 2, which adds it after the outcome. The version byte comes
/// first, so the two never encode alike.
const RECORD_V1: u8 = 1;
const RECORD_V2: u8 = 2;
const CHECKPOINT_V1: &[u8] = b"lindung audit checkpoint v1\n";

/// One audit record as it is sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub agency_id: Option<Uuid>,
    pub method: String,
    pub request_id: String,
    /// The client's `x-correlation-id`, when it sent one.
    pub correlation_id: Option<String>,
    pub outcome: String,
    pub subject: Option<Subject>,
}

/// A sealed record: its position and the leaf hash stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub seq: i64,
    pub record: Record,
    pub leaf: Hash,
}

/// One sealed batch: records `first_seq..=last_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub batch: i64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub root: Hash,
    pub chain: Hash,
}

/// A signed chain head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub id: i64,
    pub batch: i64,
    /// The last seq the checkpoint covers (the last seq of `batch`).
    pub last_seq: i64,
    pub chain: Hash,
    pub signed_at: DateTime<Utc>,
    pub kid: String,
    pub signature: Vec<u8>,
}

/// The canonical, versioned encoding of a record at position `seq`: every field, fixed-width integers big-endian,
/// texts length-prefixed (u32), optional fields behind a presence byte. No two records encode alike.
pub fn encode(seq: i64, record: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.push(if record.correlation_id.is_some() { RECORD_V2 } else { RECORD_V1 });
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&record.id.to_be_bytes());
    out.extend_from_slice(&record.at.timestamp_micros().to_be_bytes());
    match record.agency_id {
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
        None => out.push(0),
    }
    let correlation = record.correlation_id.as_ref();
    for text in [&record.method, &record.request_id, &record.outcome].into_iter().chain(correlation) {
        out.extend_from_slice(&(text.len() as u32).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    match &record.subject {
        Some(subject) => {
            out.push(1);
            out.extend_from_slice(&subject.0);
        }
        None => out.push(0),
    }
    out
}

/// The leaf hash of a record at position `seq`.
pub fn leaf(seq: i64, record: &Record) -> Hash {
    let mut hash = Sha256::new();
    hash.update([0x00]);
    hash.update(encode(seq, record));
    hash.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut hash = Sha256::new();
    hash.update([0x01]);
    hash.update(left);
    hash.update(right);
    hash.finalize().into()
}

/// The largest power of two below `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash of `leaves` (RFC 6962 MTH; the empty tree hashes the empty string).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path of leaf `index` in the tree of `leaves` (RFC 6962 PATH), the sibling nearest the leaf first.
pub fn path(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut path = path(&leaves[..k], index);
        path.push(root(&leaves[k..]));
        path
    } else {
        let mut path = path(&leaves[k..], index - k);
        path.push(root(&leaves[..k]));
        path
    }
}

/// Whether `path` proves `leaf` at `index` in a tree of `size` leaves with root `root` (RFC 9162 §2.1.3.2).
pub fn includes(root_hash: &Hash, size: u64, index: u64, leaf: &Hash, path: &[Hash]) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root_hash
}

/// The chain value after a batch.
pub fn link(previous: &Hash, root: &Hash, first_seq: i64, last_seq: i64) -> Hash {
    let mut hash = Sha256::new();
    hash.update([0x02]);
    hash.update(previous);
    hash.update(root);
    hash.update(first_seq.to_be_bytes());
    hash.update(last_seq.to_be_bytes());
    hash.finalize().into()
}

/// What a checkpoint signs: the batch, the size of the log it covers, the chain head and the signing time.
pub fn checkpoint_message(batch: i64, last_seq: i64, chain: &Hash, signed_at: DateTime<Utc>) -> Vec<u8> {
    let mut out = CHECKPOINT_V1.to_vec();
    out.extend_from_slice(&batch.to_be_bytes());
    out.extend_from_slice(&last_seq.to_be_bytes());
    out.extend_from_slice(chain);
    out.extend_from_slice(&signed_at.timestamp_micros().to_be_bytes());
    out
}

/// The records of one pass of the sealer, given positions from `next_seq` on in the order given (id order), and
/// the batch they make after the batch whose chain is `previous`.
pub fn seal(batch: i64, next_seq: i64, previous: &Hash, records: Vec<Record>) -> (Vec<Sealed>, Batch) {
    let sealed: Vec<Sealed> = records
        .into_iter()
        .zip(next_seq..)
        .map(|(record, seq)| Sealed { seq, leaf: leaf(seq, &record), record })
        .collect();
    let leaves: Vec<Hash> = sealed.iter().map(|s| s.leaf).collect();
    let root = root(&leaves);
    let last_seq = next_seq + sealed.len() as i64 - 1;
    let chain = link(previous, &root, next_seq, last_seq);
    (sealed, Batch { batch, first_seq: next_seq, last_seq, root, chain })
}

/// The first thing found wrong, naming the record (by seq and id) or, where records were rewritten with their
/// hashes, the batch or the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("record seq {seq} (id {id}) was changed: its fields no longer give the hash sealed for it")]
    Changed { seq: i64, id: i64 },
    #[error("record seq {seq} (id {id}) was inserted: its id is out of the order the sealer gave batch {batch}")]
    OutOfOrder { seq: i64, id: i64, batch: i64 },
    #[error("record seq {seq} was removed (the sealed records around it: {})", around(*.before, *.after))]
    Removed { seq: i64, before: Option<i64>, after: Option<i64> },
    #[error("record seq {seq} (id {id}) was inserted: no sealed batch holds seq {seq}")]
    Inserted { seq: i64, id: i64 },
    #[error(
        "batch {batch} (records seq {first_seq}..={last_seq}) was rewritten: its records' hashes do not give its root"
    )]
    BatchRewritten { batch: i64, first_seq: i64, last_seq: i64 },
    #[error("batch {batch} breaks the chain: {why}")]
    ChainBroken { batch: i64, why: String },
    #[error(
        "checkpoint {checkpoint} (signed {signed_at}) does not match the chain: a record between seq {from_seq} and \
         {to_seq} was changed, removed or inserted with its hashes rewritten"
    )]
    CheckpointMismatch { checkpoint: i64, signed_at: DateTime<Utc>, from_seq: i64, to_seq: i64 },
    #[error("checkpoint {checkpoint} carries no valid signature of key {kid}")]
    BadSignature { checkpoint: i64, kid: String },
    #[error("checkpoint {checkpoint} is signed by key {kid}, which is not a trusted key")]
    UnknownKey { checkpoint: i64, kid: String },
    #[error("checkpoint {checkpoint} names batch {batch}, which does not exist")]
    CheckpointWithoutBatch { checkpoint: i64, batch: i64 },
}

fn around(before: Option<i64>, after: Option<i64>) -> String {
    let id = |id: Option<i64>| id.map_or("none".to_owned(), |id| format!("id {id}"));
    format!("before it {}, after it {}", id(before), id(after))
}

/// What an intact chain verified to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub batches: u64,
    pub checkpoints: u64,
    /// The last checkpoint verified: (batch, last seq, signed at, key id).
    pub last_checkpoint: Option<(i64, i64, DateTime<Utc>, String)>,
    /// Sealed records after the last checkpoint (not yet signed).
    pub after_checkpoint: u64,
}

/// Checks the chain as it streams by: [`Verifier::batch`] with each batch in order, its checkpoints and its
/// records in seq order, then [`Verifier::finish`] with the sealed records left over. Keeps one batch in memory.
pub struct Verifier {
    keys: Vec<PublicKey>,
    chain: Hash,
    next_batch: i64,
    next_seq: i64,
    last_id: Option<i64>,
    /// The first seq after the last checkpoint verified.
    unsigned_from: i64,
    summary: Summary,
}

impl Verifier {
    /// A verifier trusting `keys` for checkpoints.
    pub fn new(keys: Vec<PublicKey>) -> Verifier {
        Verifier {
            keys,
            chain: GENESIS,
            next_batch: 0,
            next_seq: 0,
            last_id: None,
            unsigned_from: 0,
            summary: Summary::default(),
        }
    }

    /// Checks one batch: its records (in seq order), its root, its link to the chain, and its checkpoints.
    pub fn batch(&mut self, batch: &Batch, records: &[Sealed], checkpoints: &[Checkpoint]) -> Result<(), Failure> {
        let broken = |why: String| Failure::ChainBroken { batch: batch.batch, why };
        if batch.batch != self.next_batch {
            return Err(broken(format!("expected batch {} next", self.next_batch)));
        }
        if batch.first_seq != self.next_seq || batch.last_seq < batch.first_seq {
            return Err(broken(format!(
                "it holds seq {}..={}, the records after batch {} begin at seq {}",
                batch.first_seq,
                batch.last_seq,
                batch.batch - 1,
                self.next_seq
            )));
        }
        let mut expected = batch.first_seq;
        let mut previous_id: Option<i64> = None;
        for sealed in records {
            if sealed.seq > batch.last_seq {
                break;
            }
            if sealed.seq != expected {
                return Err(Failure::Removed {
                    seq: expected,
                    before: previous_id.or(self.last_id),
                    after: Some(sealed.record.id),
                });
            }
            if leaf(sealed.seq, &sealed.record) != sealed.leaf {
                return Err(Failure::Changed { seq: sealed.seq, id: sealed.record.id });
            }
            // The sealer gives a batch's positions in id order. Where the order breaks, the record out of line is
            // the one before (an id too high) when this one still follows the record before that.
            if previous_id.is_some_and(|previous| sealed.record.id <= previous) {
                let at = (sealed.seq - batch.first_seq) as usize;
                let culprit = match at.checked_sub(2).map(|k| &records[k]) {
                    Some(before) if sealed.record.id > before.record.id => &records[at - 1],
                    _ => sealed,
                };
                return Err(Failure::OutOfOrder { seq: culprit.seq, id: culprit.record.id, batch: batch.batch });
            }
            previous_id = Some(sealed.record.id);
            expected += 1;
        }
        if expected <= batch.last_seq {
            return Err(Failure::Removed { seq: expected, before: previous_id.or(self.last_id), after: None });
        }
        let leaves: Vec<Hash> = records.iter().map(|s| s.leaf).collect();
        if root(&leaves) != batch.root {
            return Err(Failure::BatchRewritten {
                batch: batch.batch,
                first_seq: batch.first_seq,
                last_seq: batch.last_seq,
            });
        }
        let chain = link(&self.chain, &batch.root, batch.first_seq, batch.last_seq);
        if chain != batch.chain {
            return Err(broken("its chain value is not the hash of the chain before it and its root".to_owned()));
        }
        for checkpoint in checkpoints {
            self.checkpoint(checkpoint, batch)?;
        }
        self.chain = chain;
        self.next_batch += 1;
        self.next_seq = batch.last_seq + 1;
        self.last_id = previous_id;
        self.summary.records += records.len() as u64;
        self.summary.batches += 1;
        Ok(())
    }

    fn checkpoint(&mut self, checkpoint: &Checkpoint, batch: &Batch) -> Result<(), Failure> {
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == checkpoint.kid)
            .ok_or_else(|| Failure::UnknownKey { checkpoint: checkpoint.id, kid: checkpoint.kid.clone() })?;
        let message =
            checkpoint_message(checkpoint.batch, checkpoint.last_seq, &checkpoint.chain, checkpoint.signed_at);
        if !key.verifies(&message, &checkpoint.signature) {
            return Err(Failure::BadSignature { checkpoint: checkpoint.id, kid: checkpoint.kid.clone() });
        }
        if checkpoint.chain != batch.chain || checkpoint.last_seq != batch.last_seq {
            return Err(Failure::CheckpointMismatch {
                checkpoint: checkpoint.id,
                signed_at: checkpoint.signed_at,
                from_seq: self.unsigned_from,
                to_seq: checkpoint.last_seq,
            });
        }
        self.unsigned_from = batch.last_seq + 1;
        self.summary.checkpoints += 1;
        self.summary.last_checkpoint =
            Some((checkpoint.batch, checkpoint.last_seq, checkpoint.signed_at, checkpoint.kid.clone()));
        Ok(())
    }

    /// Ends the check: `left_over` is the first sealed record found after the last batch, if any.
    pub fn finish(mut self, left_over: Option<&Sealed>) -> Result<Summary, Failure> {
        if let Some(sealed) = left_over {
            return Err(Failure::Inserted { seq: sealed.seq, id: sealed.record.id });
        }
        self.summary.after_checkpoint = u64::try_from(self.next_seq - self.unsigned_from).unwrap_or(0);
        Ok(self.summary)
    }
}

/// Everything an offline holder needs to check one record against a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub seq: i64,
    pub record: Record,
    /// The batch holding the record and the audit path of its leaf in that batch's tree.
    pub batch: Batch,
    pub path: Vec<Hash>,
    /// The chain value before the record's batch.
    pub previous_chain: Hash,
    /// The batches after the record's batch up to the checkpoint's, in order.
    pub links: Vec<Batch>,
    pub checkpoint: Checkpoint,
}

/// Why a proof does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the record is not in the batch's tree")]
    NotIncluded,
    #[error("the batches do not chain up to the checkpoint")]
    ChainMismatch,
    #[error("the checkpoint's signature does not verify with the key")]
    BadSignature,
}

/// Checks `proof` with the public key `key` alone: record → leaf → batch root → chain → signed checkpoint.
pub fn check_proof(proof: &InclusionProof, key: &PublicKey) -> Result<(), ProofError> {
    let batch = &proof.batch;
    let (Ok(size), Ok(index)) =
        (u64::try_from(batch.last_seq - batch.first_seq + 1), u64::try_from(proof.seq - batch.first_seq))
    else {
        return Err(ProofError::NotIncluded);
    };
    if !includes(&batch.root, size, index, &leaf(proof.seq, &proof.record), &proof.path) {
        return Err(ProofError::NotIncluded);
    }
    let mut chain = link(&proof.previous_chain, &batch.root, batch.first_seq, batch.last_seq);
    let mut last = batch;
    for next in &proof.links {
        if next.first_seq != last.last_seq + 1 || next.batch != last.batch + 1 {
            return Err(ProofError::ChainMismatch);
        }
        chain = link(&chain, &next.root, next.first_seq, next.last_seq);
        last = next;
    }
    let checkpoint = &proof.checkpoint;
    if checkpoint.batch != last.batch || checkpoint.last_seq != last.last_seq || checkpoint.chain != chain {
        return Err(ProofError::ChainMismatch);
    }
    let message = checkpoint_message(checkpoint.batch, checkpoint.last_seq, &checkpoint.chain, checkpoint.signed_at);
    if checkpoint.kid != key.kid || !key.verifies(&message, &checkpoint.signature) {
        return Err(ProofError::BadSignature);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::Signer;

    fn record(id: i64) -> Record {
        Record {
            id,
            at: DateTime::from_timestamp_micros(1_764_000_000_000_000 + id).unwrap(),
            agency_id: Some(Uuid::from_u128(7)),
            method: "/lindung.v1.WorkerService/GetWorker".into(),
            request_id: format!("req-{id}"),
            correlation_id: None,
            outcome: "OK".into(),
            subject: (id % 2 == 0).then_some(Subject([id as u8; 32])),
        }
    }

    fn hex_hash(hash: &Hash) -> String {
        hex::encode(hash)
    }

    /// Leaves as in the RFC 6962 test vectors of certificate-transparency-go (merkle/testonly): the leaf inputs
    /// "", 00, 10, 2021, 3031, 40414243, 5051525354555657, 606162636465666768696a6b6c6d6e6f.
    fn ct_leaves() -> Vec<Hash> {
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|input| {
                let mut hash = Sha256::new();
                hash.update([0]);
                hash.update(hex::decode(input).unwrap());
                hash.finalize().into()
            })
            .collect()
    }

    #[test]
    fn roots_are_those_of_rfc_6962() {
        let leaves = ct_leaves();
        let check = |n: usize, expected: &str| assert_eq!(hex_hash(&root(&leaves[..n])), expected, "{n} leaves");
        check(0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        check(1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        check(2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
        check(3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77");
        check(8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    }

    #[test]
    fn every_leaf_of_every_tree_size_is_proved_and_a_wrong_one_is_not() {
        let leaves = ct_leaves();
        for n in 1..=leaves.len() {
            let root = root(&leaves[..n]);
            for i in 0..n {
                let path = path(&leaves[..n], i);
                assert!(includes(&root, n as u64, i as u64, &leaves[i], &path), "leaf {i} of {n}");
                let other = leaves[(i + 1) % leaves.len()];
                if n > 1 {
                    assert!(!includes(&root, n as u64, i as u64, &other, &path), "wrong leaf {i} of {n}");
                    assert!(!includes(&root, n as u64, ((i + 1) % n) as u64, &leaves[i], &path), "wrong index");
                }
            }
        }
    }

    #[test]
    fn every_field_and_the_position_change_the_leaf() {
        let base = record(2);
        let original = leaf(5, &base);
        assert_ne!(leaf(6, &base), original);
        let changes: [fn(&mut Record); 9] = [
            |r| r.id += 1,
            |r| r.at += chrono::Duration::microseconds(1),
            |r| r.agency_id = None,
            |r| r.method.push('x'),
            |r| r.request_id.push('x'),
            |r| r.outcome = "NOT_FOUND".into(),
            |r| r.subject = None,
            |r| r.correlation_id = Some(String::new()),
            // Moving a byte from one text to the next: the length prefixes tell them apart.
            |r| {
                let last = r.method.pop().unwrap();
                r.request_id.insert(0, last);
            },
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(leaf(5, &changed), original, "change {i}");
        }
    }

    #[test]
    fn a_correlation_id_changes_the_leaf_and_cannot_pass_for_another_field() {
        let mut base = record(2);
        base.correlation_id = Some("SPM-2025-10-0042".into());
        let original = leaf(5, &base);
        let changes: [fn(&mut Record); 3] = [
            |r| r.correlation_id = None,
            |r| r.correlation_id.as_mut().unwrap().push('x'),
            |r| {
                let first = r.correlation_id.as_mut().unwrap().remove(0);
                r.outcome.push(first);
            },
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(leaf(5, &changed), original, "change {i}");
        }
    }

    #[test]
    fn a_record_without_a_correlation_id_keeps_the_first_encoding() {
        // Spelled out byte by byte, so that leaves sealed before correlation ids existed keep verifying.
        let r = record(2);
        let mut expected = vec![1u8];
        expected.extend_from_slice(&5i64.to_be_bytes());
        expected.extend_from_slice(&2i64.to_be_bytes());
        expected.extend_from_slice(&r.at.timestamp_micros().to_be_bytes());
        expected.push(1);
        expected.extend_from_slice(Uuid::from_u128(7).as_bytes());
        for text in ["/lindung.v1.WorkerService/GetWorker", "req-2", "OK"] {
            expected.extend_from_slice(&(text.len() as u32).to_be_bytes());
            expected.extend_from_slice(text.as_bytes());
        }
        expected.push(1);
        expected.extend_from_slice(&[2; 32]);
        assert_eq!(encode(5, &r), expected);
    }

    struct Log {
        batches: Vec<(Batch, Vec<Sealed>, Vec<Checkpoint>)>,
    }

    /// A log of `sizes.len()` batches, each checkpointed, signed with `signer`.
    fn log(sizes: &[usize], signer: &Signer) -> Log {
        let (mut chain, mut seq, mut id) = (GENESIS, 0, 1);
        let mut batches = Vec::new();
        for (n, size) in sizes.iter().enumerate() {
            let records: Vec<Record> = (0..*size).map(|k| record(id + k as i64)).collect();
            id += *size as i64;
            let (sealed, batch) = seal(n as i64, seq, &chain, records);
            let signed_at = DateTime::from_timestamp_micros(1_764_000_100_000_000 + n as i64).unwrap();
            let message = checkpoint_message(batch.batch, batch.last_seq, &batch.chain, signed_at);
            let checkpoint = Checkpoint {
                id: n as i64 + 1,
                batch: batch.batch,
                last_seq: batch.last_seq,
                chain: batch.chain,
                signed_at,
                kid: signer.kid().to_owned(),
                signature: signer.sign(&message).to_vec(),
            };
            chain = batch.chain;
            seq = batch.last_seq + 1;
            batches.push((batch, sealed, vec![checkpoint]));
        }
        Log { batches }
    }

    fn verify(log: &Log, keys: Vec<PublicKey>, left_over: Option<&Sealed>) -> Result<Summary, Failure> {
        let mut verifier = Verifier::new(keys);
        for (batch, records, checkpoints) in &log.batches {
            verifier.batch(batch, records, checkpoints)?;
        }
        verifier.finish(left_over)
    }

    #[test]
    fn an_untouched_log_verifies() {
        let signer = Signer::new([9; 32]);
        let log = log(&[3, 1, 5], &signer);
        let summary = verify(&log, vec![signer.public_key().clone()], None).unwrap();
        assert_eq!((summary.records, summary.batches, summary.checkpoints, summary.after_checkpoint), (9, 3, 3, 0));
    }

    #[test]
    fn a_changed_record_is_named() {
        let signer = Signer::new([9; 32]);
        let mut log = log(&[3, 4], &signer);
        log.batches[1].1[2].record.outcome = "NOT_FOUND".into();
        let id = log.batches[1].1[2].record.id;
        assert_eq!(verify(&log, vec![signer.public_key().clone()], None), Err(Failure::Changed { seq: 5, id }));
    }

    #[test]
    fn a_removed_record_is_named_by_its_seq_and_neighbours() {
        let signer = Signer::new([9; 32]);
        let mut log = log(&[3, 4], &signer);
        let removed = log.batches[1].1.remove(1);
        let (before, after) = (log.batches[1].1[0].record.id, log.batches[1].1[1].record.id);
        assert_eq!(
            verify(&log, vec![signer.public_key().clone()], None),
            Err(Failure::Removed { seq: removed.seq, before: Some(before), after: Some(after) })
        );
        // The last record of the last batch.
        let mut log = self::log(&[3], &signer);
        log.batches[0].1.pop();
        assert_eq!(
            verify(&log, vec![signer.public_key().clone()], None),
            Err(Failure::Removed { seq: 2, before: Some(2), after: None })
        );
    }

    #[test]
    fn an_inserted_record_is_named() {
        let signer = Signer::new([9; 32]);
        let log = log(&[3], &signer);
        // After the last batch, with a well-formed leaf.
        let forged = Sealed { seq: 3, record: record(99), leaf: leaf(3, &record(99)) };
        assert_eq!(
            verify(&log, vec![signer.public_key().clone()], Some(&forged)),
            Err(Failure::Inserted { seq: 3, id: 99 })
        );
        // In place of a sealed record, with a well-formed leaf: the ids are no longer in sealing order, and the
        // record out of line is named, whether its id is too high or too low.
        for (at, forged_id) in [(1, 99), (2, 99), (2, -5), (3, 99)] {
            let mut log = self::log(&[5], &signer);
            let forged = record(forged_id);
            log.batches[0].1[at] = Sealed { seq: at as i64, leaf: leaf(at as i64, &forged), record: forged };
            assert_eq!(
                verify(&log, vec![signer.public_key().clone()], None),
                Err(Failure::OutOfOrder { seq: at as i64, id: forged_id, batch: 0 }),
                "id {forged_id} at {at}"
            );
        }
    }

    #[test]
    fn rewritten_hashes_are_caught_by_the_root_then_by_the_signed_checkpoint() {
        let signer = Signer::new([9; 32]);
        let keys = vec![signer.public_key().clone()];
        // Leaf rewritten with the record: the root no longer matches.
        let mut log = log(&[3, 4], &signer);
        let target = &mut log.batches[1].1[0];
        target.record.outcome = "NOT_FOUND".into();
        target.leaf = leaf(target.seq, &target.record);
        assert!(matches!(verify(&log, keys.clone(), None), Err(Failure::BatchRewritten { batch: 1, .. })));
        // Root and chain rewritten too: only the signature stands in the way.
        let leaves: Vec<Hash> = log.batches[1].1.iter().map(|s| s.leaf).collect();
        let previous = log.batches[0].0.chain;
        let batch = &mut log.batches[1].0;
        batch.root = root(&leaves);
        batch.chain = link(&previous, &batch.root, batch.first_seq, batch.last_seq);
        assert_eq!(
            verify(&log, keys.clone(), None),
            Err(Failure::CheckpointMismatch {
                checkpoint: 2,
                signed_at: log.batches[1].2[0].signed_at,
                from_seq: 3,
                to_seq: 6
            })
        );
        // And a checkpoint re-made without the key does not verify.
        log.batches[1].2[0].chain = log.batches[1].0.chain;
        assert!(matches!(verify(&log, keys, None), Err(Failure::BadSignature { checkpoint: 2, .. })));
        assert!(matches!(
            verify(&log, vec![Signer::new([1; 32]).public_key().clone()], None),
            Err(Failure::UnknownKey { checkpoint: 1, .. })
        ));
    }

    #[test]
    fn a_dropped_batch_breaks_the_chain() {
        let signer = Signer::new([9; 32]);
        let mut log = log(&[2, 2, 2], &signer);
        log.batches.remove(1);
        assert!(matches!(
            verify(&log, vec![signer.public_key().clone()], None),
            Err(Failure::ChainBroken { batch: 2, .. })
        ));
    }

    #[test]
    fn an_inclusion_proof_checks_offline_and_fails_when_anything_changes() {
        let signer = Signer::new([9; 32]);
        let log = log(&[3, 5, 2], &signer);
        let (batch, records, _) = &log.batches[1];
        let leaves: Vec<Hash> = records.iter().map(|s| s.leaf).collect();
        let proof = InclusionProof {
            seq: records[3].seq,
            record: records[3].record.clone(),
            batch: batch.clone(),
            path: path(&leaves, 3),
            previous_chain: log.batches[0].0.chain,
            links: vec![log.batches[2].0.clone()],
            checkpoint: log.batches[2].2[0].clone(),
        };
        let key = signer.public_key();
        assert_eq!(check_proof(&proof, key), Ok(()));
        let mut changed = proof.clone();
        changed.record.request_id.push('x');
        assert_eq!(check_proof(&changed, key), Err(ProofError::NotIncluded));
        let mut changed = proof.clone();
        changed.links[0].root[0] ^= 1;
        assert_eq!(check_proof(&changed, key), Err(ProofError::ChainMismatch));
        let mut changed = proof.clone();
        changed.checkpoint.signature[0] ^= 1;
        assert_eq!(check_proof(&changed, key), Err(ProofError::BadSignature));
        assert_eq!(check_proof(&proof, Signer::new([1; 32]).public_key()), Err(ProofError::BadSignature));
    }
}
