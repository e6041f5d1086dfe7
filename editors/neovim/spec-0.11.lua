-- spec in Neovim 0.11 or later: put this in init.lua (or a file under plugin/).
-- The server finds the estate's root itself (the nearest `spec.toml` above the file, else the
-- workspace folder given here); root_markers only tells Neovim which folder to hand it.
vim.filetype.add({ extension = { spec = "spec" } })
vim.lsp.config("spec", {
  cmd = { "spec", "lsp" },
  filetypes = { "spec" },
  root_markers = { "spec.toml", ".git" },
})
vim.lsp.enable("spec")
