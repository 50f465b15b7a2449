//! `bisik custody …`: identity custodians decide reveal requests on their own machine.

use super::*;

#[derive(Debug, Args)]
pub struct CustodyArgs {
    #[command(flatten)]
    member: MemberArgs,
    #[command(subcommand)]
    command: CustodyCommand,
}

#[derive(Debug, Subcommand)]
enum CustodyCommand {
    /// Pending requests to reveal identities you keep, with their reasons (decrypted here).
    List,
    /// Approve: the identity is opened here and sealed to the requester alone.
    Approve {
        id: String,
        seq: i64,
        #[arg(long)]
        reason: String,
    },
    /// Deny, with a reason the requester and the reporter read.
    Deny {
        id: String,
        seq: i64,
        #[arg(long)]
        reason: String,
    },
}

/// `bisik custody …`: identity custodians decide reveal requests.
pub fn custody(args: CustodyArgs) -> Result<(), String> {
    let mut client = args.member.client()?;
    let e = |e: crate::client::ClientError| e.to_string();
    match args.command {
        CustodyCommand::List => {
            let pending = client.call(|c| c.pending_reveals()).map_err(e)?;
            if pending.is_empty() {
                println!("no pending requests");
            }
            for p in pending {
                let reason = token::decode(&p.reason_envelope)
                    .and_then(|s| client.open_document::<ReasonDocument>(&s).ok())
                    .map_or_else(
                        || "[reason cannot be decrypted]".to_owned(),
                        |r| one(&r.text).into_owned(),
                    );
                println!(
                    "{} #{}  {}  by {} ({}): {reason}",
                    one(&p.case_id),
                    p.seq,
                    one(&p.requested_on),
                    one(&p.requester),
                    one(&p.requester_institution)
                );
            }
            Ok(())
        }
        CustodyCommand::Approve { id, seq, reason } => {
            let from = client
                .call(|c| c.decide_reveal(&id, seq, true, &reason))
                .map_err(e)?;
            println!(
                "approved; the requester can open it from {}",
                one(from.as_deref().unwrap_or("-"))
            );
            Ok(())
        }
        CustodyCommand::Deny { id, seq, reason } => {
            client
                .call(|c| c.decide_reveal(&id, seq, false, &reason))
                .map_err(e)?;
            println!("denied");
            Ok(())
        }
    }
}
