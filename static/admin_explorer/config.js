// The page's configuration, written once by the server (admin_explorer/page.py) into a
// json_script block: URLs, defaults, columns and menus are never repeated here.
export const CONFIG = Object.freeze(JSON.parse(document.getElementById("explorer-config").textContent));
