//! Member commands: `bisik login`, `bisik logout`, `bisik case …`. Everything is decrypted and
//! sealed here, on the member's machine, with the member's own identity file.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use zeroize::Zeroizing;

use super::{many, one};
use crate::api::{CaseResponse, ClassifyRequest};
use crate::client::{Client, ListFilter, read_identity};
use crate::crypto::token;
use crate::domain::documents::{MessageDocument, ReasonDocument, ReportDocument};

mod custody;
mod print;
pub use custody::{CustodyArgs, custody};
use print::print_case;

/// How to reach the server and who you are. Usable before or after the subcommand.
#[derive(Debug, Args)]
pub struct MemberArgs {
    /// The Bisik server (an onion address works with --proxy).
    #[arg(
        long,
        global = true,
        env = "BISIK_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    server: String,
    /// Your age identity file (plain or passphrase-protected). It never leaves this machine.
    #[arg(long, short, global = true, env = "BISIK_IDENTITY")]
    identity: Option<PathBuf>,
    /// A SOCKS proxy, e.g. socks5h://127.0.0.1:9050 for a local Tor client.
    #[arg(long, global = true, env = "BISIK_PROXY")]
    proxy: Option<String>,
}

impl MemberArgs {
    fn client(&self) -> Result<Client, String> {
        let path = self
            .identity
            .as_ref()
            .ok_or("no identity: pass --identity FILE or set BISIK_IDENTITY")?;
        let identity = read_identity(path).map_err(|e| e.to_string())?;
        Client::new(&self.server, identity, self.proxy.as_deref()).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Args)]
pub struct CaseArgs {
    #[command(flatten)]
    member: MemberArgs,
    #[command(subcommand)]
    command: CaseCommand,
}

#[derive(Debug, Subcommand)]
enum CaseCommand {
    /// List your institution's cases.
    List {
        /// Only cases in this state (received, verified, on_hold, …).
        #[arg(long)]
        state: Option<String>,
        /// Only this kind (aspiration, complaint, information_request, whistleblowing).
        #[arg(long)]
        kind: Option<String>,
        /// Only this category.
        #[arg(long)]
        category: Option<String>,
        /// Only cases past their due day.
        #[arg(long)]
        overdue: bool,
        /// Only cases escalated to the oversight body.
        #[arg(long)]
        escalated: bool,
        /// Only cases assigned to you.
        #[arg(long)]
        mine: bool,
        /// Only cases with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only cases received on or after this day (YYYY-MM-DD).
        #[arg(long = "from", value_name = "DAY")]
        received_from: Option<String>,
        /// Only cases received on or before this day (YYYY-MM-DD).
        #[arg(long = "to", value_name = "DAY")]
        received_to: Option<String>,
        /// The cases your institution forwarded to another one (state and history only).
        #[arg(long)]
        forwarded_away: bool,
        /// newest (default), oldest, due or state.
        #[arg(long)]
        sort: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Decrypt and show a case: the report, its history (with reasons) and messages.
    Show { id: String },
    /// Write the case's content envelope (a binary age file) to stdout.
    Envelope { id: String },
    /// Write a confidential case's identity envelope to stdout (custodians only).
    IdentityEnvelope { id: String },
    /// Write to the citizen: TEXT, or --file FILE (- for stdin), or else your $EDITOR; with
    /// --attach PATH (repeatable) documents go with it, sealed here like the message.
    Reply {
        id: String,
        text: Option<String>,
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
        /// A document to send with the message (repeatable); the citizen downloads it from the
        /// status page.
        #[arg(long = "attach", value_name = "PATH")]
        attach: Vec<PathBuf>,
    },
    /// Assign the case to one of your institution's investigators (triage), or --clear it.
    Assign {
        id: String,
        #[arg(required_unless_present = "clear")]
        handle: Option<String>,
        #[arg(long, conflicts_with = "handle")]
        clear: bool,
    },
    /// Write an internal note for your institution's officers — never shown to the reporter:
    /// TEXT, or --file FILE (- for stdin), or else your $EDITOR.
    Note {
        id: String,
        text: Option<String>,
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
    },
    /// The Ombudsman, on an escalated case: a recommendation to the institution (sealed to the
    /// case's readers, never the reporter; recorded in the history): TEXT, --file FILE or $EDITOR.
    Recommend {
        id: String,
        text: Option<String>,
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
    },
    /// The Ombudsman, on an escalated case: write to the reporter (recorded in the history).
    WriteReporter {
        id: String,
        text: Option<String>,
        #[arg(long, conflicts_with = "text")]
        file: Option<PathBuf>,
    },
    /// Move the case: verified, on_hold, archived, not_our_authority, in_progress, answered, closed.
    /// An investigator puts an in-progress case on hold to ask the reporter (the deadline pauses
    /// and the answer comes back to them).
    SetState {
        id: String,
        state: String,
        /// What the citizen reads (required for on_hold, archived, not_our_authority).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Extend the current stage's deadline by working days; the citizen sees it and the reason.
    Extend {
        id: String,
        #[arg(long)]
        days: u32,
        #[arg(long)]
        reason: String,
    },
    /// Forward the case to the institution with authority (triage). The whole case is opened
    /// and sealed again here, for the target's readers and the reporter.
    Forward {
        id: String,
        #[arg(long)]
        to: String,
        /// Why, for the citizen.
        #[arg(long)]
        reason: String,
    },
    /// Hand a confidential identity over to the custodians of the case's current institution
    /// (a custodian of the institution that holds it; re-sealed here).
    HandOverIdentity { id: String },
    /// Digitise a report received offline (triage): built and sealed here; prints the receipt
    /// to hand to the citizen.
    Intake {
        /// phone, post, complaint_box, counter, fax, sms or email.
        #[arg(long)]
        channel: String,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        title: String,
        /// The report text, or --body-file FILE (- for stdin).
        #[arg(long, conflicts_with = "body_file")]
        body: Option<String>,
        #[arg(long)]
        body_file: Option<PathBuf>,
        #[arg(long)]
        occurred_on: Option<String>,
        #[arg(long)]
        location: Option<String>,
        /// A confidential reporter's name (omit for anonymous).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, requires = "name")]
        contact: Option<String>,
        /// A scanned letter or other file (repeatable), sealed here like the report.
        #[arg(long = "attach", value_name = "PATH")]
        attach: Vec<PathBuf>,
    },
    /// Conflict of interest: exclude a member (triage, or yourself) from the case; they no
    /// longer see it and are left out of everything written afterwards.
    Exclude {
        id: String,
        handle: String,
        #[arg(long)]
        reason: String,
    },
    /// Re-seal every envelope of the case for its current readers (after a member left).
    Rekey { id: String },
    /// Decrypt every attachment into DIR (names made safe: nothing lands outside DIR).
    Files {
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Ask the custodians for a confidential reporter's identity; the reporter is told.
    RevealRequest {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Show the identity a custodian granted you (decrypted here).
    Identity { id: String },
    /// Oversight: cases past their due day, counted per institution (no content).
    OverdueCounts,
    /// The institutions, with their parents and the categories they handle.
    Institutions,
    /// Reclassify (triage): kind, category, tags; privacy can only be tightened to anonymous.
    Classify {
        id: String,
        #[arg(long)]
        kind: Option<String>,
        /// An empty value clears the category.
        #[arg(long)]
        category: Option<String>,
        /// Comma-separated; replaces the case's tags.
        #[arg(long, value_delimiter = ',')]
        tags: Option<Vec<String>>,
        /// Only "anonymous": destroys a confidential reporter's identity envelope.
        #[arg(long)]
        privacy: Option<String>,
    },
}

/// `bisik login`: log in and cache the session.
pub fn login(args: MemberArgs) -> Result<(), String> {
    let mut client = args.client()?;
    let s = client.login().map_err(|e| e.to_string())?;
    let until = time::OffsetDateTime::from_unix_timestamp(s.expires_at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    println!(
        "logged in as {} ({}: {}) until {until}",
        one(&s.handle),
        one(&s.institution),
        one(&s.roles.join(", "))
    );
    Ok(())
}

/// `bisik logout`: end the session on the server and forget it here.
pub fn logout(args: MemberArgs) -> Result<(), String> {
    args.client()?.logout().map_err(|e| e.to_string())?;
    println!("logged out");
    Ok(())
}

pub fn run(args: CaseArgs) -> Result<(), String> {
    let mut client = args.member.client()?;
    let e = |e: crate::client::ClientError| e.to_string();
    match args.command {
        CaseCommand::List {
            state,
            kind,
            category,
            overdue,
            escalated,
            mine,
            tag,
            received_from,
            received_to,
            forwarded_away,
            sort,
            limit,
            offset,
        } => {
            let filter = ListFilter {
                state,
                kind,
                category,
                overdue,
                escalated,
                limit,
                offset,
                tag,
                received_from,
                received_to,
                forwarded_away,
                sort,
            };
            let cases = if mine {
                client.call(|c| c.list_assigned_to_me(&filter))
            } else {
                client.call(|c| c.list(&filter))
            }
            .map_err(e)?;
            if cases.is_empty() {
                println!("no cases");
                return Ok(());
            }
            println!(
                "ID         KIND                 CATEGORY         STATE              RECEIVED     DUE          ASSIGNED TO            PRIVACY"
            );
            let today = crate::domain::clock::day_string(client.today());
            for c in cases {
                let due = match c.due_on.as_deref() {
                    Some(d) if d < today.as_str() => format!("{}!", one(d)),
                    Some(d) => one(d).into_owned(),
                    None => "-".into(),
                };
                // Every column is one line: nothing from the server can start a line of its own.
                println!(
                    "{:<10} {:<20} {:<16} {:<18} {:<12} {:<12} {:<22} {}{}{}",
                    one(&c.id),
                    one(&c.kind),
                    one(c.category.as_deref().unwrap_or("-")),
                    one(&c.state),
                    one(&c.received_on),
                    due,
                    one(c.assigned_to.as_deref().unwrap_or("-")),
                    one(&c.privacy),
                    if c.escalated_on.is_some() {
                        " (escalated)"
                    } else {
                        ""
                    },
                    // Sealed to ML-KEM-768 + X25519 keys: safe from a later quantum computer.
                    if c.post_quantum {
                        " (post-quantum)"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        CaseCommand::Show { id } => {
            let case = client.call(|c| c.case(&id)).map_err(e)?;
            print_case(&client, &case).map_err(e)
        }
        CaseCommand::Envelope { id } => write_stdout(&client.call(|c| c.envelope(&id)).map_err(e)?),
        CaseCommand::IdentityEnvelope { id } => {
            write_stdout(&client.call(|c| c.identity_envelope(&id)).map_err(e)?)
        }
        CaseCommand::Reply {
            id,
            text,
            file,
            attach,
        } => {
            let text = message_text(text, file)?;
            if text.trim().is_empty() && attach.is_empty() {
                return Err("the message is empty: nothing sent".into());
            }
            if attach.is_empty() {
                client.call(|c| c.reply(&id, &text)).map_err(e)?;
            } else {
                with_files(&mut client, &attach, |c, files| {
                    c.reply_with_files(&id, &text, files)
                })?;
            }
            println!("sent");
            Ok(())
        }
        CaseCommand::Assign { id, handle, clear } => {
            let handle = handle.filter(|_| !clear);
            let now = client
                .call(|c| c.assign(&id, handle.as_deref()))
                .map_err(e)?;
            match now {
                Some(h) => println!("{id} assigned to {}", one(&h)),
                None => println!("{id} is assigned to nobody"),
            }
            Ok(())
        }
        CaseCommand::Note { id, text, file } => {
            let text = message_text(text, file)?;
            if text.trim().is_empty() {
                return Err("the note is empty: nothing saved".into());
            }
            let seq = client.call(|c| c.note(&id, &text)).map_err(e)?;
            println!("internal note {seq} saved on {id} (not visible to the reporter)");
            Ok(())
        }
        CaseCommand::Recommend { id, text, file } => {
            let text = message_text(text, file)?;
            if text.trim().is_empty() {
                return Err("the recommendation is empty: nothing sent".into());
            }
            client.call(|c| c.recommend(&id, &text)).map_err(e)?;
            println!("recommendation sent on {id} and recorded in its history");
            Ok(())
        }
        CaseCommand::WriteReporter { id, text, file } => {
            let text = message_text(text, file)?;
            if text.trim().is_empty() {
                return Err("the message is empty: nothing sent".into());
            }
            client
                .call(|c| c.oversight_message(&id, &text))
                .map_err(e)?;
            println!("message to the reporter sent on {id} and recorded in its history");
            Ok(())
        }
        CaseCommand::SetState { id, state, reason } => {
            client
                .call(|c| c.set_state(&id, &state, reason.as_deref()))
                .map_err(e)?;
            println!("{id} is now {state}");
            Ok(())
        }
        CaseCommand::Extend { id, days, reason } => {
            let due = client.call(|c| c.extend(&id, days, &reason)).map_err(e)?;
            println!("{id} now due {}", one(due.as_deref().unwrap_or("-")));
            Ok(())
        }
        CaseCommand::Forward { id, to, reason } => {
            client.call(|c| c.forward(&id, &to, &reason)).map_err(e)?;
            println!("{id} forwarded to {to}");
            Ok(())
        }
        CaseCommand::HandOverIdentity { id } => {
            client.call(|c| c.hand_over_identity(&id)).map_err(e)?;
            println!("identity of {id} handed over");
            Ok(())
        }
        CaseCommand::Intake {
            channel,
            kind,
            category,
            title,
            body,
            body_file,
            occurred_on,
            location,
            name,
            contact,
            attach,
        } => {
            let body = match (body, body_file) {
                (Some(b), _) => Zeroizing::new(b),
                (None, f) => message_text(None, Some(f.ok_or("give --body or --body-file")?))?,
            };
            if title.trim().is_empty() || body.trim().is_empty() {
                return Err("a report needs a title and a body".into());
            }
            let report = crate::client::OfflineReport {
                channel,
                kind,
                category,
                title,
                body: body.to_string(),
                occurred_on,
                location,
                identity: name.map(|n| (n, contact)),
            };
            let (case_id, receipt) = with_files(&mut client, &attach, |c, files| {
                c.intake_with_files(&report, files)
            })?;
            println!("case {} saved.", one(&case_id));
            if !attach.is_empty() {
                println!("{} file(s) attached.", attach.len());
            }
            println!(
                "Receipt for the citizen (hand it over, keep no copy): {}",
                receipt.as_str()
            );
            Ok(())
        }
        CaseCommand::Exclude { id, handle, reason } => {
            client
                .call(|c| c.exclude(&id, &handle, &reason))
                .map_err(e)?;
            println!("{handle} excluded from {id}");
            Ok(())
        }
        CaseCommand::Files { id, out } => {
            for (path, m) in client.call(|c| c.save_attachments(&id, &out)).map_err(e)? {
                println!(
                    "{}  ({}, {} bytes){}",
                    one(&path.display().to_string()),
                    one(&m.content_type),
                    m.size,
                    if m.scrubbed {
                        ""
                    } else {
                        "  — NOT scrubbed: may carry hidden data about its author"
                    }
                );
            }
            Ok(())
        }
        CaseCommand::Rekey { id } => {
            client.call(|c| c.rekey(&id)).map_err(e)?;
            println!("{id} re-sealed for its current readers");
            Ok(())
        }
        CaseCommand::RevealRequest { id, reason } => {
            let seq = client.call(|c| c.request_reveal(&id, &reason)).map_err(e)?;
            println!("reveal request {seq} on {id} sent to the custodians; the reporter is told");
            Ok(())
        }
        CaseCommand::Identity { id } => {
            let doc = client.call(|c| c.granted_identity(&id)).map_err(e)?;
            println!("name:    {}", one(&doc.name));
            println!("contact: {}", one(doc.contact.as_deref().unwrap_or("-")));
            Ok(())
        }
        CaseCommand::OverdueCounts => {
            for c in client.call(|c| c.overdue_counts()).map_err(e)? {
                println!("{:<14} {}", one(&c.institution), c.overdue);
            }
            Ok(())
        }
        CaseCommand::Institutions => {
            for i in client.call(|c| c.institutions()).map_err(e)? {
                println!(
                    "{:<14} {:<12} {:<30} {}{}",
                    one(&i.slug),
                    one(i.parent.as_deref().unwrap_or("-")),
                    one(&i.categories.join(",")),
                    one(&i.name_en),
                    if i.intake_desk { " (intake desk)" } else { "" }
                );
            }
            Ok(())
        }
        CaseCommand::Classify {
            id,
            kind,
            category,
            tags,
            privacy,
        } => {
            let req = ClassifyRequest {
                kind,
                category,
                tags,
                privacy,
            };
            client.call(|c| c.classify(&id, &req)).map_err(e)?;
            println!("{id} reclassified");
            Ok(())
        }
    }
}

/// Runs `send` with the files at `paths` opened here and streamed into the sealer (the client
/// seals and uploads each), again from their start if the session had to be renewed.
fn with_files<T>(
    client: &mut Client,
    paths: &[PathBuf],
    send: impl Fn(
        &Client,
        &mut [crate::client::OutgoingFile<'_>],
    ) -> Result<T, crate::client::ClientError>,
) -> Result<T, String> {
    use crate::client::{OutgoingFile, content_type_for};
    for p in paths {
        if !p.is_file() {
            return Err(format!("{} is not a file", p.display()));
        }
    }
    client
        .call(|c| {
            let mut opened = Vec::with_capacity(paths.len());
            for p in paths {
                let f = std::fs::File::open(p).map_err(|err| {
                    crate::client::ClientError::Transport(format!(
                        "cannot read {}: {err}",
                        p.display()
                    ))
                })?;
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                opened.push((name, std::io::BufReader::new(f)));
            }
            let mut files: Vec<OutgoingFile<'_>> = opened
                .iter_mut()
                .map(|(name, reader)| OutgoingFile {
                    content_type: content_type_for(name).to_owned(),
                    name: name.clone(),
                    reader,
                })
                .collect();
            send(c, &mut files)
        })
        .map_err(|err| err.to_string())
}

/// The reply text from the argument, a file (`-`: stdin), or the member's editor.
fn message_text(text: Option<String>, file: Option<PathBuf>) -> Result<Zeroizing<String>, String> {
    if let Some(t) = text {
        return Ok(Zeroizing::new(t));
    }
    let mut out = Zeroizing::new(String::new());
    match file {
        Some(p) if p.as_os_str() == "-" => {
            std::io::stdin()
                .read_to_string(&mut out)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
        }
        Some(p) => {
            *out = std::fs::read_to_string(&p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        }
        None => {
            let editor = std::env::var("VISUAL")
                .or_else(|_| std::env::var("EDITOR"))
                .map_err(|_| {
                    "no text: give it as an argument, with --file, or set $EDITOR".to_owned()
                })?;
            // A private temporary file on the member's machine, removed afterwards.
            let tmp = tempfile::Builder::new()
                .prefix("bisik-reply-")
                .suffix(".txt")
                .tempfile()
                .map_err(|e| e.to_string())?;
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{editor} \"$1\""))
                .arg("sh")
                .arg(tmp.path())
                .status()
                .map_err(|e| format!("cannot start {editor}: {e}"))?;
            if !status.success() {
                return Err(format!("{editor} failed: nothing sent"));
            }
            *out = std::fs::read_to_string(tmp.path()).map_err(|e| e.to_string())?;
            let len = out.len();
            let _ = std::fs::write(tmp.path(), vec![0u8; len]);
        }
    }
    Ok(out)
}

fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write: {e}"))
}
