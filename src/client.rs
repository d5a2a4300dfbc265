//! The client commands (`lindung workers …`, `enrollments …`, `coverage verify`, `reconcile`, `feed follow`, `audit
//! prove`, `bills …`, `claims …`): an edge of lindung that talks to a running server over gRPC with the generated
//! clients, as any agency's system would, and never touches the store. Rows and requests are checked with the
//! domain's own parsers, so a rule lives once.

pub mod audit;
pub mod bills;
pub mod claims;
pub mod coverage;
pub mod enrollments;
pub mod feed;
pub mod reconcile;
pub mod report;
pub mod sheet;
pub mod workers;

use anyhow::Context;
use secrecy::ExposeSecret;
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint},
};

use crate::config::ServerArgs;

/// The language a refusal is asked in: Bahasa Indonesia beside the English status message.
pub const ACCEPT_LANGUAGE: &str = "id, en;q=0.8";

/// A channel whose every call carries the agency's key and asks for messages in Bahasa Indonesia.
pub type Authed = InterceptedService<Channel, CallHeaders>;

/// Adds `authorization: Bearer …` (unless the agency authenticates by certificate) and `accept-language` to every
/// call.
#[derive(Clone)]
pub struct CallHeaders {
    bearer: Option<MetadataValue<Ascii>>,
    language: MetadataValue<Ascii>,
}

impl Interceptor for CallHeaders {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(bearer) = &self.bearer {
            request.metadata_mut().insert("authorization", bearer.clone());
        }
        request.metadata_mut().insert("accept-language", self.language.clone());
        Ok(request)
    }
}

/// Connects to `--server` (TLS when it is `https://`, trusting `--ca-cert` or the system's roots) as the agency of
/// `--key`, or of the client certificate `--cert` (mutual TLS) when no key is given.
pub async fn connect(args: &ServerArgs) -> anyhow::Result<Authed> {
    let channel = channel(args).await?;
    match (&args.key, &args.cert) {
        (Some(key), _) => authed(channel, key.expose_secret()),
        (None, Some(_)) => Ok(InterceptedService::new(
            channel,
            CallHeaders { bearer: None, language: MetadataValue::from_static(ACCEPT_LANGUAGE) },
        )),
        (None, None) => anyhow::bail!(
            "an API key or a client certificate is needed: give --key (LINDUNG_KEY) or --cert and --cert-key"
        ),
    }
}

/// One connection to `--server`, over TLS when it is `https://` (presenting `--cert` when given); many clients (and
/// keys) may share it.
pub async fn channel(args: &ServerArgs) -> anyhow::Result<Channel> {
    let mut endpoint =
        Endpoint::from_shared(args.server.clone()).with_context(|| format!("--server {}", args.server))?;
    if args.server.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        tls = match &args.ca_cert {
            Some(path) => {
                let pem = std::fs::read(path).with_context(|| format!("reading --ca-cert {}", path.display()))?;
                tls.ca_certificate(Certificate::from_pem(pem))
            }
            None => tls.with_native_roots(),
        };
        if let (Some(cert), Some(key)) = (&args.cert, &args.cert_key) {
            let cert = std::fs::read(cert).with_context(|| format!("reading --cert {}", cert.display()))?;
            let key = std::fs::read(key).with_context(|| format!("reading --cert-key {}", key.display()))?;
            tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        endpoint = endpoint.tls_config(tls).context("TLS configuration")?;
    } else if args.cert.is_some() {
        anyhow::bail!("--cert needs an https:// --server");
    }
    endpoint.connect().await.with_context(|| format!("cannot reach the server at {}", args.server))
}

/// `channel` as the agency whose API key is `key`.
pub fn authed(channel: Channel, key: &str) -> anyhow::Result<Authed> {
    let bearer = format!("Bearer {key}").parse().context("the API key is not a valid header value")?;
    let headers = CallHeaders { bearer: Some(bearer), language: MetadataValue::from_static(ACCEPT_LANGUAGE) };
    Ok(InterceptedService::new(channel, headers))
}

/// Why a row was refused, as a clerk reads it: the stable reason code, and the message in both languages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub message_en: String,
    /// Bahasa Indonesia when the server sent it (`google.rpc.LocalizedMessage`), else the English text.
    pub message_id: String,
}

impl Refusal {
    /// Reads a row's `google.rpc.Status`: the reason of its `ErrorInfo`, else of its field violations; the
    /// Indonesian message of its `LocalizedMessage`, else of its field violations' localized messages.
    pub fn from_status(status: &tonic_types::pb::Status) -> Refusal {
        use prost::Message;
        let mut reason = None;
        let mut localized = None;
        let mut field_reasons = Vec::new();
        let mut field_localized = Vec::new();
        for any in &status.details {
            let name = any.type_url.rsplit('/').next().unwrap_or_default();
            match name {
                "google.rpc.ErrorInfo" => {
                    if let Ok(info) = tonic_types::pb::ErrorInfo::decode(any.value.as_slice()) {
                        reason = Some(info.reason);
                    }
                }
                "google.rpc.LocalizedMessage" => {
                    if let Ok(m) = tonic_types::pb::LocalizedMessage::decode(any.value.as_slice())
                        && m.locale.starts_with("id")
                    {
                        localized = Some(m.message);
                    }
                }
                "google.rpc.BadRequest" => {
                    if let Ok(bad) = tonic_types::pb::BadRequest::decode(any.value.as_slice()) {
                        for v in bad.field_violations {
                            field_reasons.push(v.reason);
                            if let Some(m) = v.localized_message.filter(|m| m.locale.starts_with("id")) {
                                field_localized.push(format!("{}: {}", v.field, m.message));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let reason = reason.unwrap_or_else(|| {
            field_reasons.dedup();
            if field_reasons.is_empty() { code_name(status.code) } else { field_reasons.join(", ") }
        });
        let message_id = localized
            .or_else(|| (!field_localized.is_empty()).then(|| field_localized.join("; ")))
            .unwrap_or_else(|| status.message.clone());
        Refusal { reason, message_en: status.message.clone(), message_id }
    }

    /// The refusal of rules checked on this side: their reason codes, and each violation in both languages from
    /// the catalogue the server answers from, so that a dry run's words match the real run's.
    pub fn from_violations(violations: &[crate::error::FieldViolation]) -> Refusal {
        let mut reasons: Vec<&str> = violations.iter().map(|v| v.reason).collect();
        reasons.dedup();
        let words = |locale: crate::messages::Locale| {
            let parts: Vec<String> =
                violations.iter().map(|v| format!("{}: {}", v.field, v.localized(locale))).collect();
            parts.join("; ")
        };
        Refusal {
            reason: reasons.join(", "),
            message_en: words(crate::messages::Locale::En),
            message_id: words(crate::messages::Locale::Id),
        }
    }

    /// A message of the catalogue in both languages, under its reason code.
    pub fn from_message(message: &crate::messages::Message) -> Refusal {
        Refusal {
            reason: message.reason().to_owned(),
            message_en: message.render(crate::messages::Locale::En),
            message_id: message.render(crate::messages::Locale::Id),
        }
    }

    /// The same reading of a whole call's status.
    pub fn from_call(status: &tonic::Status) -> Refusal {
        let details = prost::Message::decode(status.details()).unwrap_or_else(|_| tonic_types::pb::Status {
            code: status.code() as i32,
            message: status.message().to_owned(),
            details: vec![],
        });
        Refusal::from_status(&tonic_types::pb::Status { message: status.message().to_owned(), ..details })
    }

    /// What the domain's own parsers say of a row before anything is sent, in the words of the catalogue the server
    /// answers from, so that a dry run's line reads as the real run's.
    pub fn from_error(error: crate::error::Error) -> Refusal {
        match error {
            crate::error::Error::InvalidArgument(violations) => Refusal::from_violations(&violations),
            other => Refusal::from_status(&crate::error::to_rpc_status(other)),
        }
    }
}

impl std::fmt::Display for Refusal {
    /// The reason code, then the message in English and in Bahasa Indonesia, one to a line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused: {}\n  message: {}\n  pesan:   {}", self.reason, self.message_en, self.message_id)
    }
}

impl std::error::Error for Refusal {}

/// A call the server refused, as the error a command ends with (printed by `main`, exit status 1).
pub fn refused(status: tonic::Status) -> anyhow::Error {
    Refusal::from_call(&status).into()
}

/// Checks a request with the parsers the server itself applies, before anything is sent: a refusal reads as the
/// server's would (the same reason codes, both languages), as `refused` prints it.
pub fn checked<T>(parsed: Result<T, crate::error::Error>) -> anyhow::Result<T> {
    parsed.map_err(|error| Refusal::from_error(error).into())
}

/// The same for the several parsers of one request: one refusal naming every bad field, as the server's does.
pub fn checked_all(parsed: Vec<Result<(), crate::error::Error>>) -> anyhow::Result<()> {
    let mut violations = Vec::new();
    for result in parsed {
        crate::validate::collect(&mut violations, result);
    }
    let parsed = if violations.is_empty() { Ok(()) } else { Err(crate::error::Error::InvalidArgument(violations)) };
    checked(parsed)
}

/// An amount of the wire as a clerk reads it, `Rp132,619,200`; as sent when it is not a valid amount.
pub fn rupiah(amount: Option<&crate::proto::v1::Rupiah>) -> String {
    let text = amount.map_or("", |a| a.amount.as_str());
    match crate::money::Rupiah::parse(text) {
        Ok(amount) => crate::messages::Arg::from(amount).render(crate::messages::Locale::En),
        Err(_) => text.to_owned(),
    }
}

/// A count as a clerk reads it, `7,894`.
pub fn count(n: impl Into<crate::messages::Arg>) -> String {
    n.into().render(crate::messages::Locale::En)
}

/// A message as proto3 JSON (every field present), from the same descriptors and mapping as the JSON face.
pub fn json(full_name: &str, message: &impl prost::Message) -> anyhow::Result<String> {
    let descriptor = crate::connect::DESCRIPTORS
        .get_message_by_name(full_name)
        .with_context(|| format!("no message {full_name}"))?;
    let dynamic = prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())?;
    Ok(String::from_utf8(crate::connect::to_json(&dynamic))?)
}

/// An enum value's protobuf name as a word: `CLAIM_STATUS_PAID` with prefix `CLAIM_STATUS_` is `paid`,
/// `BILL_STATE_PARTIALLY_PAID` is `partially paid`.
pub fn word(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_lowercase().replace('_', " ")
}

/// A gRPC code as its canonical name, e.g. `INVALID_ARGUMENT`.
fn code_name(code: i32) -> String {
    let mut name = String::new();
    for (i, c) in format!("{:?}", tonic::Code::from_i32(code)).chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

/// A NIK as a result file shows it: every character but the last 4 replaced by `*` (`************0001`).
pub fn masked(nik: &str) -> String {
    let chars: Vec<char> = nik.trim().chars().collect();
    let keep = chars.len().saturating_sub(4);
    chars.iter().enumerate().map(|(i, c)| if i < keep || chars.len() < 4 { '*' } else { *c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn a_nik_is_masked_but_for_its_last_four_digits() {
        assert_eq!(masked("3271014505900001"), "************0001");
        assert_eq!(masked("123"), "***");
        assert_eq!(masked(""), "");
    }

    fn any(name: &str, message: impl Message) -> prost_types::Any {
        prost_types::Any { type_url: format!("type.googleapis.com/{name}"), value: message.encode_to_vec() }
    }

    #[test]
    fn a_local_check_reads_as_the_servers_refusal_in_both_languages() {
        let violation = crate::error::FieldViolation::new("worker_nik", crate::msg!(REQUIRED));
        let error = checked::<()>(Err(crate::error::Error::InvalidArgument(vec![violation]))).unwrap_err();
        let refusal = error.downcast_ref::<Refusal>().unwrap();
        assert_eq!(refusal.reason, "REQUIRED");
        assert!(refusal.message_en.contains("worker_nik: is required"), "{refusal:?}");
        assert!(refusal.message_id.starts_with("worker_nik: "), "{refusal:?}");
        assert_ne!(refusal.message_id, refusal.message_en);
        assert!(error.to_string().starts_with("refused: REQUIRED\n  message: "), "{error}");
    }

    #[test]
    fn amounts_and_enum_values_read_as_words() {
        let amount = |a: &str| rupiah(Some(&crate::proto::v1::Rupiah { amount: a.into() }));
        assert_eq!(amount("132619200"), "Rp132,619,200");
        assert_eq!(amount("16800.5"), "Rp16,800.50");
        assert_eq!(amount("x"), "x");
        assert_eq!(rupiah(None), "");
        assert_eq!(word("BILL_STATE_PARTIALLY_PAID", "BILL_STATE_"), "partially paid");
        let json = json("lindung.v1.Rupiah", &crate::proto::v1::Rupiah { amount: "16800".into() }).unwrap();
        assert_eq!(json, r#"{"amount":"16800"}"#);
    }

    #[test]
    fn a_refusal_takes_the_indonesian_message_when_the_server_sent_one() {
        let english = tonic_types::pb::Status { code: 3, message: "nik: too short".into(), details: vec![] };
        let plain = Refusal::from_status(&english);
        assert_eq!((plain.reason.as_str(), plain.message_id.as_str()), ("INVALID_ARGUMENT", "nik: too short"));

        let bad = tonic_types::pb::BadRequest {
            field_violations: vec![tonic_types::pb::bad_request::FieldViolation {
                field: "worker.nik".into(),
                description: "too short".into(),
                reason: "NIK_LENGTH".into(),
                localized_message: None,
            }],
        };
        let localized =
            tonic_types::pb::LocalizedMessage { locale: "id-ID".into(), message: "NIK terlalu pendek".into() };
        let status = tonic_types::pb::Status {
            code: 3,
            message: "nik: too short".into(),
            details: vec![any("google.rpc.BadRequest", bad), any("google.rpc.LocalizedMessage", localized)],
        };
        let refusal = Refusal::from_status(&status);
        assert_eq!(refusal.reason, "NIK_LENGTH");
        assert_eq!(refusal.message_en, "nik: too short");
        assert_eq!(refusal.message_id, "NIK terlalu pendek");
    }
}
