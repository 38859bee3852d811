//! Which provider drafts and how to reach it, shared by `dqc draft`, `dqc workflow run` and the
//! drafting Lambda function; and [`LoopDrafter`], the drafting loop behind the activities'
//! [`Drafter`] port, so the onboarding workflow's drafting step drafts with the same loop.

use std::sync::Arc;

use dqc_activities::ports::{DraftRequest, Drafter};
use dqc_activities::Error;

#[cfg(feature = "bedrock")]
use crate::bedrock::Bedrock;
use crate::drafting::{draft_after, LoopOptions};
use crate::gemini::Gemini;
use crate::openai::OpenAi;
use crate::provider::{Provider, ProviderError, RetryPolicy};

/// The time the drafting Lambda function gives the LLM, all attempts together: its timeout
/// is 10 minutes, and profiling for the offline draft comes first.
pub const LAMBDA_BUDGET: std::time::Duration = std::time::Duration::from_secs(420);

/// The LLM providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, ...).
    OpenAi,
    /// Google Gemini (`generateContent`).
    Gemini,
    /// Amazon Bedrock (the Converse API, SigV4).
    Bedrock,
}

impl Kind {
    /// The name used on the command line and in `DQC_LLM_PROVIDER`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::OpenAi => "openai",
            Kind::Gemini => "gemini",
            Kind::Bedrock => "bedrock",
        }
    }

    /// The kind of a name; `None` for `offline` and unknown names.
    pub fn parse(name: &str) -> Option<Kind> {
        [Kind::OpenAi, Kind::Gemini, Kind::Bedrock].into_iter().find(|k| k.name() == name)
    }

    /// The environment variable holding the API key by default (Bedrock signs with AWS
    /// credentials instead).
    pub fn default_key_env(self) -> Option<&'static str> {
        match self {
            Kind::OpenAi => Some("OPENAI_API_KEY"),
            Kind::Gemini => Some("GEMINI_API_KEY"),
            Kind::Bedrock => None,
        }
    }
}

/// A provider's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Which provider.
    pub kind: Kind,
    /// The model (for Bedrock, a model or inference profile id).
    pub model: String,
    /// The API base URL [default: the provider's public endpoint].
    pub endpoint: Option<String>,
    /// The environment variable holding the API key [default: `Kind::default_key_env`].
    pub api_key_env: Option<String>,
    /// Answers asked before the offline draft stands in.
    pub attempts: u32,
    /// Timeouts and retries of each answer.
    pub policy: RetryPolicy,
}

impl Settings {
    /// The settings of the drafting Lambda function: `DQC_LLM_PROVIDER` (`offline`, the
    /// default, or `openai`, `gemini`, `bedrock`), `DQC_LLM_MODEL`, `DQC_LLM_ENDPOINT`,
    /// `DQC_LLM_ATTEMPTS` (1 to 10, default 3), and the key in `DQC_LLM_API_KEY` (or the
    /// variable `DQC_LLM_API_KEY_ENV` names). `None` when offline. All the attempts together
    /// stay within [`LAMBDA_BUDGET`], so the function (10 minutes) never times out mid-draft.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Settings>, String> {
        let Some(name) = var("DQC_LLM_PROVIDER").filter(|p| p != "offline") else { return Ok(None) };
        let kind = Kind::parse(&name)
            .ok_or_else(|| format!("DQC_LLM_PROVIDER `{name}` is not a provider (offline, openai, gemini, bedrock)"))?;
        let model = var("DQC_LLM_MODEL").ok_or_else(|| format!("DQC_LLM_PROVIDER {name} needs DQC_LLM_MODEL"))?;
        let attempts = match var("DQC_LLM_ATTEMPTS") {
            None => LoopOptions::default().max_attempts,
            Some(a) => a
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=10).contains(n))
                .ok_or_else(|| format!("DQC_LLM_ATTEMPTS `{a}` is not a number from 1 to 10"))?,
        };
        let api_key_env =
            var("DQC_LLM_API_KEY_ENV").or_else(|| var("DQC_LLM_API_KEY").map(|_| "DQC_LLM_API_KEY".to_string()));
        let policy = RetryPolicy { deadline: LAMBDA_BUDGET / attempts, ..RetryPolicy::default() };
        Ok(Some(Settings { kind, model, endpoint: var("DQC_LLM_ENDPOINT"), api_key_env, attempts, policy }))
    }

    /// The provider. Bedrock reads the region and credentials of the AWS configuration chain.
    pub async fn provider(&self) -> Result<Box<dyn Provider>, ProviderError> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| ProviderError { message: format!("cannot start the HTTP client: {e}") })?;
        let key_env = self.api_key_env.as_deref().or(self.kind.default_key_env());
        let api_key = key_env.and_then(|k| std::env::var(k).ok()).filter(|k| !k.is_empty());
        let (model, policy) = (self.model.clone(), self.policy);
        Ok(match self.kind {
            Kind::OpenAi => Box::new(OpenAi {
                base_url: self.endpoint.clone().unwrap_or_else(|| "https://api.openai.com/v1".into()),
                model,
                api_key,
                policy,
                client,
            }),
            Kind::Gemini => Box::new(Gemini {
                base_url: self
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| "https://generativelanguage.googleapis.com/v1beta".into()),
                model,
                api_key,
                policy,
                client,
            }),
            #[cfg(feature = "bedrock")]
            Kind::Bedrock => Box::new(Bedrock::from_environment(model, self.endpoint.clone(), policy, client).await?),
            #[cfg(not(feature = "bedrock"))]
            Kind::Bedrock => {
                return Err(ProviderError {
                    message: "bedrock: this dqc was built without the AWS adapters (the quick build of \
                              scripts/dqc); `DQC_BUILD=full scripts/dqc ...` or `cargo run -p dqc-cli -- ...` \
                              has Bedrock (the first such build compiles DuckDB, about half an hour)"
                        .to_string(),
                })
            }
        })
    }
}

/// The drafting loop as the activities' [`Drafter`]: it blocks the calling thread (an
/// activity's blocking thread) on a runtime's handle.
pub struct LoopDrafter {
    provider: Box<dyn Provider>,
    options: LoopOptions,
    handle: tokio::runtime::Handle,
    /// The runtime, when the drafter owns it (the CLI); the Lambda function lends its own.
    _runtime: Option<Arc<tokio::runtime::Runtime>>,
}

impl std::fmt::Debug for LoopDrafter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopDrafter").field("provider", &self.describe()).finish_non_exhaustive()
    }
}

impl LoopDrafter {
    /// A drafter on a runtime owned elsewhere; [`Drafter::draft`] must then be called from a
    /// thread that is not running async tasks (`spawn_blocking`).
    pub fn new(provider: Box<dyn Provider>, options: LoopOptions, handle: tokio::runtime::Handle) -> LoopDrafter {
        LoopDrafter { provider, options, handle, _runtime: None }
    }

    /// A drafter with a small runtime of its own, for synchronous callers.
    pub fn owned(settings: &Settings) -> Result<LoopDrafter, ProviderError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| ProviderError { message: format!("cannot start the async runtime: {e}") })?;
        let provider = runtime.block_on(settings.provider())?;
        let options = LoopOptions { max_attempts: settings.attempts };
        let handle = runtime.handle().clone();
        Ok(LoopDrafter { provider, options, handle, _runtime: Some(Arc::new(runtime)) })
    }
}

impl Drafter for LoopDrafter {
    fn describe(&self) -> String {
        format!("{} model {}", self.provider.name(), self.provider.model())
    }

    fn draft(&self, r: DraftRequest<'_>) -> Result<String, Error> {
        let offline = r.offline.to_string();
        let drafted = self
            .handle
            .block_on(draft_after(
                self.provider.as_ref(),
                r.context,
                r.known,
                move || Ok(offline),
                self.options,
                r.feedback,
            ))
            .map_err(|e| Error::fatal(e.message))?;
        Ok(drafted.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_lambda_environment_names_the_provider_and_keeps_the_attempts_within_the_budget() {
        assert_eq!(Settings::from_env(env(&[])), Ok(None));
        assert_eq!(Settings::from_env(env(&[("DQC_LLM_PROVIDER", "offline")])), Ok(None));
        let s = Settings::from_env(env(&[
            ("DQC_LLM_PROVIDER", "bedrock"),
            ("DQC_LLM_MODEL", "anthropic.claude-test-v1:0"),
            ("DQC_LLM_ATTEMPTS", "4"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!((s.kind, s.attempts, s.api_key_env), (Kind::Bedrock, 4, None));
        assert_eq!(s.policy.deadline * 4, LAMBDA_BUDGET);
        let s = Settings::from_env(env(&[
            ("DQC_LLM_PROVIDER", "openai"),
            ("DQC_LLM_MODEL", "m"),
            ("DQC_LLM_API_KEY", "sk-test"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(s.api_key_env.as_deref(), Some("DQC_LLM_API_KEY"));
        assert!(Settings::from_env(env(&[("DQC_LLM_PROVIDER", "gpt")])).unwrap_err().contains("not a provider"));
        assert!(Settings::from_env(env(&[("DQC_LLM_PROVIDER", "gemini")]))
            .unwrap_err()
            .contains("needs DQC_LLM_MODEL"));
        let zero = Settings::from_env(env(&[
            ("DQC_LLM_PROVIDER", "gemini"),
            ("DQC_LLM_MODEL", "m"),
            ("DQC_LLM_ATTEMPTS", "0"),
        ]));
        assert!(zero.unwrap_err().contains("from 1 to 10"));
    }
}
