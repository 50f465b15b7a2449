//! `bisik bench load`: the members' flows — list and fetch, back to back or at an officer's
//! pace, and with `--probe-parts` each request split into its parts.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::load::{FlowResult, LoadOptions, agent, run_flow_due, run_paced_flow};
use super::load_parts::Recorder;

/// Members: each client logs in once (outside the timing) through its instance, then lists
/// or fetches. With `--probe-parts`, the flows send the same requests themselves to read the
/// server's parts of each ([`Recorder`]).
pub(super) fn member_flows(
    n: usize,
    opts: &LoadOptions,
    ids: &Path,
    bases: &Arc<Vec<String>>,
) -> Result<Vec<FlowResult>, String> {
    let (seconds, pace, paced_only) = (opts.seconds, opts.member_pace, opts.paced_only);
    let members: Arc<Vec<crate::client::Client>> = Arc::new(
        (0..n)
            .map(|c| {
                let id = crate::client::read_identity(&ids.join("health-investigator.txt"))
                    .map_err(|e| e.to_string())?;
                let mut client = crate::client::Client::new(&bases[c % bases.len()], id, None)
                    .map_err(|e| e.to_string())?;
                client.login().map_err(|e| e.to_string())?;
                Ok(client)
            })
            .collect::<Result<_, String>>()?,
    );
    let case_ids: Arc<Vec<String>> = Arc::new(
        members[0]
            .list(&crate::client::ListFilter {
                limit: 200,
                ..Default::default()
            })
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|c| c.id)
            .collect(),
    );
    if case_ids.is_empty() {
        return Err("no case to fetch: seed some (--seed)".into());
    }
    let mut out = Vec::new();
    // Back to back; then, with a pace, the same at that pace (or only that).
    let runs: &[(Option<Duration>, &'static str, &'static str)] = match pace {
        None => &[(None, "member list", "member fetch")],
        Some(_) if paced_only => &[(pace, "member list, paced", "member fetch, paced")],
        Some(_) => &[
            (None, "member list", "member fetch"),
            (pace, "member list, paced", "member fetch, paced"),
        ],
    };
    for &(pace, list, fetch) in runs {
        if opts.probe_parts {
            out.extend(member_flows_in_parts(
                n,
                seconds,
                pace,
                [list, fetch],
                &members,
                &case_ids,
                bases,
            )?);
            continue;
        }
        let m = members.clone();
        out.push(run_paced_flow(n, seconds, pace, list, move |c, _| {
            m[c].list(&crate::client::ListFilter {
                limit: 50,
                ..Default::default()
            })
            .is_ok()
            .into()
        }));
        let (m, ids) = (members.clone(), case_ids.clone());
        out.push(run_paced_flow(n, seconds, pace, fetch, move |c, i| {
            m[c].case(&ids[(c * 31 + i) % ids.len()]).is_ok().into()
        }));
    }
    Ok(out)
}

/// The members' list and fetch flows as [`member_flows`] runs them (the same requests as
/// `Client::list` with a limit of 50 and `Client::case`, decoded alike), each request split into
/// its parts.
fn member_flows_in_parts(
    n: usize,
    seconds: u64,
    pace: Option<Duration>,
    [list, fetch]: [&'static str; 2],
    members: &[crate::client::Client],
    case_ids: &Arc<Vec<String>>,
    bases: &Arc<Vec<String>>,
) -> Result<Vec<FlowResult>, String> {
    let tokens: Arc<Vec<String>> = Arc::new(
        members
            .iter()
            .map(|m| m.session().map(|s| s.token.clone()).ok_or("not logged in"))
            .collect::<Result<_, _>>()?,
    );
    // One agent per member, kept across its requests, as `Client` keeps its own.
    let agents: Arc<Vec<ureq::Agent>> = Arc::new((0..n).map(|_| agent()).collect());
    let recorder = Recorder::default();
    let (r, a, t, b) = (
        recorder.clone(),
        agents.clone(),
        tokens.clone(),
        bases.clone(),
    );
    let mut listed = run_flow_due(n, seconds, pace, list, move |c, _, due| {
        let url = format!("{}/api/v1/cases?limit=50&offset=0", b[c % b.len()]);
        r.get::<crate::api::CaseListResponse>(&a[c], &url, &t[c], due)
    });
    recorder.finish(&mut listed);
    let (r, a, t, b, ids) = (
        recorder.clone(),
        agents,
        tokens,
        bases.clone(),
        case_ids.clone(),
    );
    let mut fetched = run_flow_due(n, seconds, pace, fetch, move |c, i, due| {
        let id = &ids[(c * 31 + i) % ids.len()];
        let url = format!("{}/api/v1/cases/{id}", b[c % b.len()]);
        r.get::<crate::api::CaseResponse>(&a[c], &url, &t[c], due)
    });
    recorder.finish(&mut fetched);
    Ok(vec![listed, fetched])
}
