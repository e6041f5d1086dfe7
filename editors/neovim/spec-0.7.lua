-- spec in Neovim 0.7 to 0.10 (no vim.lsp.config there): put this in init.lua.
-- Starts `spec lsp` once per root (the nearest folder holding `spec.toml` or `.git`, else the
-- file's own folder) and attaches every `.spec` buffer below it.
vim.filetype.add({ extension = { spec = "spec" } })

local function root_of(path)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while true do
    for _, marker in ipairs({ "spec.toml", ".git" }) do
      if vim.loop.fs_stat(dir .. "/" .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then
      return vim.fn.fnamemodify(path, ":p:h")
    end
    dir = parent
  end
end

vim.api.nvim_create_autocmd("FileType", {
  pattern = "spec",
  callback = function(args)
    local root = root_of(vim.api.nvim_buf_get_name(args.buf))
    -- vim.lsp.start (0.8+) reuses a client with the same name and root; on 0.7, start_client
    -- and buf_attach_client do the same by hand.
    if vim.lsp.start then
      vim.lsp.start({ name = "spec", cmd = { "spec", "lsp" }, root_dir = root })
    else
      _G.spec_lsp_clients = _G.spec_lsp_clients or {}
      local id = _G.spec_lsp_clients[root]
      if not id then
        id = vim.lsp.start_client({ name = "spec", cmd = { "spec", "lsp" }, root_dir = root })
        _G.spec_lsp_clients[root] = id
      end
      vim.lsp.buf_attach_client(args.buf, id)
    end
  end,
})
