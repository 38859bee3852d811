//! `dqc approvals`: the approval service on one machine, and its signing keys.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use dqc_activities::approval::Keyring;
use dqc_approvals::{router, Approvals, LocalTokens};

use crate::{files, Fatal};

/// The approval service and its keys.
#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// Serve the review pages and take decisions: approvers open the signed links the
    /// onboarding workflow sends (`dqc workflow run ... --approval-url URL --approval-keys FILE`),
    /// review the draft and approve or reject it; the decision answers the waiting task token.
    Serve(ServeArgs),
    /// Write a new keyring with one random signing key (refused if the file exists).
    Keygen(KeygenArgs),
    /// Add a new signing key to a keyring and make it current; links signed with the older keys
    /// stay valid until they expire, unless a key is retired with --retire.
    Rotate(RotateArgs),
}

/// Arguments of `dqc approvals serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen; keep it on loopback unless a TLS proxy is in front.
    #[arg(long, default_value = "127.0.0.1:8600")]
    listen: String,
    /// The workflow home whose task tokens the decisions answer.
    #[arg(long, default_value = "out/workflow")]
    home: PathBuf,
    /// The artifact folder the workflow writes [default: <home>/artifacts].
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// The metadata folder with the approval records [default: <home>/metadata].
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// The keyring links are signed with.
    #[arg(long)]
    keys: PathBuf,
}

/// Arguments of `dqc approvals keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The keyring file to write.
    #[arg(long)]
    out: PathBuf,
    /// The key's id.
    #[arg(long, default_value = "k1")]
    id: String,
}

/// Arguments of `dqc approvals rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The keyring file, rewritten in place.
    #[arg(long)]
    keys: PathBuf,
    /// The new key's id.
    #[arg(long)]
    id: String,
    /// Remove this key: links it signed are refused from now on.
    #[arg(long)]
    retire: Vec<String>,
}

fn read_keyring(path: &Path) -> Result<Keyring, Fatal> {
    let text = std::fs::read_to_string(path).map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
    Keyring::from_json(&text).map_err(|e| Fatal(format!("{}: {}", path.display(), e.message)))
}

fn write_keyring(path: &Path, ring: &Keyring) -> Result<(), Fatal> {
    files::write_atomic(path, &format!("{}\n", serde_json::to_string_pretty(ring)?))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Fatal(format!("cannot restrict {}: {e}", path.display())))?;
    }
    Ok(())
}

/// Runs a `dqc approvals` command.
pub fn run(cmd: ApprovalsCommand) -> Result<ExitCode, Fatal> {
    match cmd {
        ApprovalsCommand::Keygen(a) => {
            if a.out.exists() {
                return Err(Fatal(format!("{} exists; rotate its keys with `dqc approvals rotate`", a.out.display())));
            }
            write_keyring(&a.out, &Keyring::generate(&a.id).map_err(|e| Fatal(e.message))?)?;
            errln!("wrote the keyring {} (current key {})", a.out.display(), a.id);
            Ok(ExitCode::SUCCESS)
        }
        ApprovalsCommand::Rotate(a) => {
            let mut ring = read_keyring(&a.keys)?;
            if ring.keys.contains_key(&a.id) {
                return Err(Fatal(format!("the keyring has a key `{}` already", a.id)));
            }
            let fresh = Keyring::generate(&a.id).map_err(|e| Fatal(e.message))?;
            ring.keys.extend(fresh.keys);
            ring.current = a.id.clone();
            for old in &a.retire {
                if old == &a.id || ring.keys.remove(old).is_none() {
                    return Err(Fatal(format!("cannot retire `{old}`: not an older key of the keyring")));
                }
            }
            write_keyring(&a.keys, &ring)?;
            errln!(
                "{}: current key {}; keys {}",
                a.keys.display(),
                ring.current,
                ring.keys.keys().cloned().collect::<Vec<_>>().join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        ApprovalsCommand::Serve(a) => serve(&a),
    }
}

fn serve(a: &ServeArgs) -> Result<ExitCode, Fatal> {
    let keyring = read_keyring(&a.keys)?;
    let home = dqc_workflow::execution::Home::open(&a.home).map_err(Fatal)?;
    let tokens = home.tokens().map_err(Fatal)?;
    let state = Arc::new(Approvals {
        metadata: Arc::new(dqc_local::FolderMetadata::new(
            a.metadata.clone().unwrap_or_else(|| a.home.join("metadata")),
        )),
        store: Arc::new(dqc_local::FolderStore::new(a.artifacts.clone().unwrap_or_else(|| a.home.join("artifacts")))),
        tokens: Arc::new(LocalTokens(tokens)),
        keyring,
        clock: Arc::new(|| jiff::Timestamp::now().as_second()),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Fatal(format!("cannot start the server: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .map_err(|e| Fatal(format!("cannot listen on {}: {e}", a.listen)))?;
        let address = listener.local_addr().map_err(|e| Fatal(e.to_string()))?;
        errln!("serving approvals on http://{address} for the workflows of {} (Ctrl-C stops)", a.home.display());
        axum::serve(listener, router(state)).await.map_err(|e| Fatal(format!("the server stopped: {e}")))
    })?;
    Ok(ExitCode::SUCCESS)
}
