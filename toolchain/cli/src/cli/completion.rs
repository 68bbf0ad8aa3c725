use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, Context};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Install, for example:
  skill completion bash > ~/.local/share/bash-completion/completions/skill
  skill completion zsh > \"${fpath[1]}/_skill\"
  skill completion fish > ~/.config/fish/completions/skill.fish
  skill completion powershell >> $PROFILE")]
pub struct Args {
    /// The shell to write completions for
    shell: Shell,
}

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "skill", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
