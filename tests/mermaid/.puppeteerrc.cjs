// Puppeteer must not download a browser: the validator drives Debian's Chromium
// (see puppeteer-config.json). PUPPETEER_SKIP_DOWNLOAD=1 in the environment does the same.
module.exports = { skipDownload: true };
