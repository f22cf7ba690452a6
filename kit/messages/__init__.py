"""The message catalogues, zh.toml and en.toml, read by kit.i18n."""
