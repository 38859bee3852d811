//! Contract drafting with LLMs: providers behind one trait ([`provider::Provider`]), each
//! speaking its real wire format ([`openai::OpenAi`] for any OpenAI-compatible
//! chat-completions endpoint, [`gemini::Gemini`], [`bedrock::Bedrock`] for Amazon Bedrock's
//! Converse API), the answer's JSON Schema generated from Rust
//! types ([`schema`]), and the compile-and-retry loop with the offline fallback ([`drafting`]).

#[cfg(feature = "bedrock")]
pub mod bedrock;
pub mod drafting;
pub mod gemini;
pub mod openai;
pub mod provider;
pub mod schema;
pub mod settings;

pub use drafting::{draft, draft_after, LlmDraft, LoopOptions};
pub use provider::{Provider, ProviderError, RetryPolicy};
pub use settings::{Kind, LoopDrafter, Settings};
