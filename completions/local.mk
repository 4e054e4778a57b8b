bashcompletiondir = $(BASH_COMPLETION_DIR)
dist_bashcompletion_DATA = \
	completions/bash/mqmon-sub completions/bash/mqmon-pub completions/bash/mqmon-cmd \
	completions/bash/mqmon-store completions/bash/mqmon-status
zshcompletiondir = $(ZSH_COMPLETION_DIR)
dist_zshcompletion_DATA = \
	completions/zsh/_mqmon-sub completions/zsh/_mqmon-pub completions/zsh/_mqmon-cmd \
	completions/zsh/_mqmon-store completions/zsh/_mqmon-status
