//! `bisik case …`: a member's view of their institution's cases. Everything is decrypted here,
//! on the member's machine, with the member's own identity file.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::api::CaseResponse;
use crate::client::{Client, read_identity};
use crate::crypto::token;
use crate::domain::documents::{MessageDocument, ReportDocument};

#[derive(Debug, Args)]
pub struct CaseArgs {
    /// The Bisik server.
    #[arg(long, env = "BISIK_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Your age identity file (never leaves this machine).
    #[arg(long, short, env = "BISIK_IDENTITY")]
    identity: PathBuf,
    #[command(subcommand)]
    command: CaseCommand,
}

#[derive(Debug, Subcommand)]
enum CaseCommand {
    /// List your institution's cases.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Decrypt and show a case: the report, its history and messages.
    Show { id: String },
    /// Write the case's content envelope (a binary age file) to stdout.
    Envelope { id: String },
    /// Write a confidential case's identity envelope to stdout (custodians only).
    IdentityEnvelope { id: String },
}

pub fn run(args: CaseArgs) -> Result<(), String> {
    let identity = read_identity(&args.identity).map_err(|e| e.to_string())?;
    let mut client = Client::new(&args.server, identity);
    client.login().map_err(|e| e.to_string())?;
    match args.command {
        CaseCommand::List { limit, offset } => {
            let cases = client.list(limit, offset).map_err(|e| e.to_string())?;
            if cases.is_empty() {
                println!("no cases");
            } else {
                println!(
                    "ID         KIND                 CATEGORY         STATE              RECEIVED     PRIVACY"
                );
            }
            for c in cases {
                println!(
                    "{:<10} {:<20} {:<16} {:<18} {:<12} {}",
                    c.id,
                    c.kind,
                    c.category.as_deref().unwrap_or("-"),
                    c.state,
                    c.received_on,
                    c.privacy
                );
            }
            Ok(())
        }
        CaseCommand::Show { id } => {
            let case = client.case(&id).map_err(|e| e.to_string())?;
            print_case(&client, &case).map_err(|e| e.to_string())
        }
        CaseCommand::Envelope { id } => {
            write_stdout(&client.envelope(&id).map_err(|e| e.to_string())?)
        }
        CaseCommand::IdentityEnvelope { id } => {
            write_stdout(&client.identity_envelope(&id).map_err(|e| e.to_string())?)
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write: {e}"))
}

fn print_case(client: &Client, case: &CaseResponse) -> Result<(), crate::client::ClientError> {
    let sealed = token::decode(&case.content).unwrap_or_default();
    let report: ReportDocument = client.open_document(&sealed)?;
    let c = &case.case;
    println!("Case {}  ({})", c.id, c.institution);
    println!("  kind:      {}", c.kind);
    println!("  category:  {}", c.category.as_deref().unwrap_or("-"));
    println!("  state:     {}", c.state);
    println!("  received:  {}", c.received_on);
    println!(
        "  privacy:   {}{}",
        c.privacy,
        if case.has_identity {
            " (identity sealed to custodians)"
        } else {
            ""
        }
    );
    if let Some(d) = &report.occurred_on {
        println!("  occurred:  {d}");
    }
    if let Some(l) = &report.location {
        println!("  location:  {l}");
    }
    println!();
    println!("Title: {}", report.title);
    println!();
    println!("{}", report.body);
    println!();
    println!("History:");
    for e in &case.events {
        println!(
            "  {}  {:<28} {}{}",
            e.day,
            e.actor,
            e.state,
            e.reason
                .as_deref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        );
    }
    println!();
    println!("Messages:");
    if case.messages.is_empty() {
        println!("  (none)");
    }
    for m in &case.messages {
        let sealed = token::decode(&m.envelope).unwrap_or_default();
        match client.open_document::<MessageDocument>(&sealed) {
            Ok(doc) => {
                println!("  {}  {}:", m.written_on, m.author);
                for line in doc.body.lines() {
                    println!("    {line}");
                }
            }
            Err(e) => println!("  {}  {}: [cannot decrypt: {e}]", m.written_on, m.author),
        }
    }
    Ok(())
}
