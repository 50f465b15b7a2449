//! `case show`: a case printed for a terminal, every outside text made safe (`one`/`many`).

use super::*;

pub(super) fn print_case(
    client: &Client,
    case: &CaseResponse,
) -> Result<(), crate::client::ClientError> {
    if case.content.is_empty() {
        // Forwarded away from the member's institution: state and history only.
        let c = &case.case;
        println!(
            "Case {}  (now with {}; its content is no longer yours to read)",
            one(&c.id),
            one(&c.institution)
        );
        println!("  state:     {}", one(&c.state));
        println!();
        println!("History:");
        for e in &case.events {
            let what = e
                .forwarded_to
                .as_deref()
                .map_or_else(|| e.state.clone(), |to| format!("forwarded to {to}"));
            println!("  {}  {:<32} {}", one(&e.day), one(&e.actor), one(&what));
        }
        return Ok(());
    }
    let sealed = token::decode(&case.content).unwrap_or_default();
    let report: ReportDocument = client.open_document(&sealed)?;
    // Everything below comes from the server, a citizen or another member: every line is
    // printed with control and format characters made visible (`domain::text`), and one-line
    // fields cannot start a line of their own.
    let c = &case.case;
    println!("Case {}  ({})", one(&c.id), one(&c.institution));
    println!("  kind:      {}", one(&c.kind));
    println!("  category:  {}", one(c.category.as_deref().unwrap_or("-")));
    println!("  state:     {}", one(&c.state));
    println!("  received:  {}", one(&c.received_on));
    println!("  due:       {}", one(c.due_on.as_deref().unwrap_or("-")));
    if c.channel != "web" {
        println!("  channel:   {}", one(&c.channel));
    }
    println!(
        "  privacy:   {}{}",
        one(&c.privacy),
        if case.has_identity {
            " (identity sealed to custodians)"
        } else {
            ""
        }
    );
    println!(
        "  sealed:    {}",
        if c.post_quantum {
            "post-quantum (ML-KEM-768 + X25519)"
        } else {
            "classic (X25519)"
        }
    );
    if !case.tags.is_empty() {
        println!("  tags:      {}", one(&case.tags.join(", ")));
    }
    if !case.reporter_could_not_open.is_empty() {
        println!(
            "  WARNING:   the reporter could not open: {} — sealed to the wrong keys. If \
             you can read them, `case rekey` seals everything again for the reporter; if not, \
             ask the member who wrote them to write them again",
            one(&case.reporter_could_not_open.join(", "))
        );
    }
    println!(
        "  Assigned to: {}",
        one(c.assigned_to.as_deref().unwrap_or("nobody"))
    );
    if let Some(d) = &report.occurred_on {
        println!("  occurred:  {}", one(d));
    }
    if let Some(l) = &report.location {
        println!("  location:  {}", one(l));
    }
    if let Some(c) = &report.concerns {
        println!(
            "  concerns:  {}   (people or units named by the citizen: consider `case exclude`)",
            one(c)
        );
    }
    println!();
    println!("Title: {}", one(&report.title));
    println!();
    // Indented, so no line of the body can pass for a heading of this page.
    for line in many(&report.body).lines() {
        println!("  {line}");
    }
    println!();
    println!("History:");
    for e in &case.events {
        let reason = match e.reason_envelope.as_deref().and_then(token::decode) {
            Some(sealed) => match client.open_document::<ReasonDocument>(&sealed) {
                Ok(r) => format!(" — {}", one(&r.text)),
                Err(err) => format!(" — [reason cannot be decrypted: {err}]"),
            },
            None => String::new(),
        };
        let what = match (e.extension_days, &e.forwarded_to) {
            _ if e.act.as_deref() == Some("recommendation") => {
                "the Ombudsman wrote a recommendation to the institution".to_owned()
            }
            _ if e.act.as_deref() == Some("oversight_message") => {
                "the Ombudsman wrote to the reporter".to_owned()
            }
            (Some(d), _) => format!("deadline +{d} working days"),
            (None, Some(to)) => format!("forwarded to {}", one(to)),
            (None, None) => one(&e.state).into_owned(),
        };
        println!("  {}  {:<32} {what}{reason}", one(&e.day), one(&e.actor));
    }
    let files = client.attachments(&c.id).ok();
    // (position, safe name, size) of each file that opens, for the conversation below.
    let mut names: Vec<(i64, String, u64)> = Vec::new();
    if let Some(files) = files {
        if !files.is_empty() {
            println!();
            println!(
                "Files (save them with `bisik case files {} --out DIR`):",
                one(&c.id)
            );
        }
        for a in files {
            let m = token::decode(&a.manifest).and_then(|s| {
                client
                    .open_document::<crate::domain::documents::FileManifest>(&s)
                    .ok()
            });
            let name = m
                .as_ref()
                .map(|m| crate::client::files::safe_name(&m.name, "attachment"));
            // A document an officer sent with a message says so; a citizen's file whether its
            // metadata was removed.
            let origin = match (&a.message, &a.author) {
                (Some(seq), author) => format!(
                    "  — sent with message #{seq} by {}",
                    one(author.as_deref().unwrap_or("?"))
                ),
                (None, _) if m.as_ref().is_some_and(|m| !m.scrubbed) => {
                    "  — NOT scrubbed: may carry hidden data about its author".to_owned()
                }
                (None, _) => String::new(),
            };
            match (&m, &name) {
                (Some(m), Some(name)) => {
                    println!(
                        "  #{}  {}  {} ({} bytes){origin}",
                        a.seq,
                        one(&a.added_on),
                        one(name),
                        m.size,
                    );
                    names.push((a.seq, name.clone(), m.size));
                }
                _ => println!("  #{}  [cannot decrypt]{origin}", a.seq),
            }
        }
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
                println!("  {}  {}:", one(&m.written_on), one(&m.author));
                for line in many(&doc.body).lines() {
                    println!("    {line}");
                }
            }
            Err(err) => println!(
                "  {}  {}: [cannot decrypt: {err}]",
                one(&m.written_on),
                one(&m.author)
            ),
        }
        for seq in &m.files {
            match names.iter().find(|(s, _, _)| s == seq) {
                Some((_, name, size)) => {
                    println!("    [attached: file #{seq}  {} ({size} bytes)]", one(name));
                }
                None => println!("    [attached: file #{seq}]"),
            }
        }
    }
    print_notes(client, case);
    Ok(())
}

/// The oversight body's recommendations, when there are any.
fn print_recommendations(client: &Client, case: &CaseResponse) {
    if case.recommendations.is_empty() {
        return;
    }
    println!();
    println!("Recommendations of the Ombudsman (not visible to the reporter):");
    print_sealed_notes(client, &case.recommendations);
}

/// The institution's internal notes, apart from the conversation with the reporter.
fn print_notes(client: &Client, case: &CaseResponse) {
    println!();
    println!("Internal notes (not visible to the reporter):");
    if case.notes.is_empty() {
        println!("  (none)");
    }
    print_sealed_notes(client, &case.notes);
    print_recommendations(client, case);
}

/// Notes or recommendations (`bisik.note` envelopes), decrypted here, inert.
fn print_sealed_notes(client: &Client, notes: &[crate::api::MessageJson]) {
    for n in notes {
        let sealed = token::decode(&n.envelope).unwrap_or_default();
        match client.open_note(&sealed) {
            Ok(doc) => {
                println!("  {}  {}:", one(&n.written_on), one(&n.author));
                for line in many(&doc.body).lines() {
                    println!("    {line}");
                }
            }
            Err(err) => println!(
                "  {}  {}: [cannot decrypt: {err}]",
                one(&n.written_on),
                one(&n.author)
            ),
        }
    }
}
