//! `fleetpath sign` and `fleetpath verify`: signed documents (Ed25519 over TUF's canonical JSON).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use fleetpath::Document;
use fleetpath::trust::{self, DocumentKind, PrivateKeyFile, SigningKey, TrustedKeys};
use jiff::Timestamp;

use crate::output::outln;
use crate::{Failure, read};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Kind {
    Manifest,
    Fleet,
    Calendar,
}

impl From<Kind> for DocumentKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Manifest => Self::Manifest,
            Kind::Fleet => Self::Fleet,
            Kind::Calendar => Self::Calendar,
        }
    }
}

#[derive(Args)]
pub(crate) struct SignArgs {
    /// The document to sign (its exact text is signed).
    document: PathBuf,
    /// What it is.
    #[arg(long, value_enum)]
    kind: Kind,
    /// Its version: higher than any signed before (devices and hosts refuse older ones).
    #[arg(long)]
    version: u64,
    /// When the signature expires (RFC 3339).
    #[arg(long)]
    expires: Timestamp,
    /// Private key files (TUF's ed25519 form); each signs.
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The signed envelope (JSON).
    envelope: PathBuf,
    /// What it must be.
    #[arg(long, value_enum)]
    kind: Kind,
    /// The trusted keys and threshold (JSON).
    #[arg(long)]
    trusted: PathBuf,
    /// The version accepted last: an older one is refused (a rollback).
    #[arg(long)]
    last_accepted: Option<u64>,
    /// When (RFC 3339); now when absent.
    #[arg(long)]
    at: Option<Timestamp>,
    /// Write the verified document's text here.
    #[arg(long)]
    document_out: Option<PathBuf>,
}

pub(crate) fn sign(args: &SignArgs) -> Result<ExitCode, Failure> {
    let document = read(&args.document)?;
    let mut keys = Vec::new();
    for path in &args.keys {
        let file = PrivateKeyFile::from_json(&read(path)?).map_err(|e| Failure::input(path, e))?;
        keys.push(SigningKey::from_file(&file).map_err(|e| Failure::input(path, e))?);
    }
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let envelope = trust::sign(args.kind.into(), args.version, args.expires, &document, &refs);
    outln!("{}", crate::json(&envelope));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify(args: &VerifyArgs) -> Result<ExitCode, Failure> {
    let text = read(&args.envelope)?;
    let trusted = TrustedKeys::from_json(&read(&args.trusted)?).map_err(|e| Failure::input(&args.trusted, e))?;
    let at = args.at.unwrap_or_else(Timestamp::now);
    let verified = trust::verify(&text, args.kind.into(), &trusted, at, args.last_accepted).map_err(|e| {
        let e = fleetpath::Error::from(e);
        Failure::Answer { code: e.code().to_owned(), message: format!("{}: {e}", args.envelope.display()) }
    })?;
    outln!(
        "verified: version {}, expires {}, signed by {}",
        verified.version,
        verified.expires,
        verified.signed_by.join(", ")
    );
    if let Some(out) = &args.document_out {
        std::fs::write(out, &verified.document).map_err(|e| Failure::Input {
            what: out.display().to_string(),
            code: "unwritable".to_owned(),
            message: e.to_string(),
        })?;
    }
    Ok(ExitCode::SUCCESS)
}
