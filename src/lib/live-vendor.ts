// Hosts the clones and the route proxy never call, whatever URL an app hands them: a live vendor
// would be billed or mailed for real.
const LIVE_VENDOR = /(^|\.)(stripe\.com|twilio\.com|resend\.com|clerk\.com|clerk\.accounts\.dev|amazonaws\.com)$/i;

// Cloud metadata services hand out credentials to whatever asks from inside the host; a
// webhook URL pointing there would turn the clone into a credential-stealing relay.
const METADATA_HOSTS = new Set(["169.254.169.254", "[fd00:ec2::254]", "metadata.google.internal", "metadata.goog", "100.100.100.200", "169.254.170.2"]);

export function isLiveVendorUrl(url: string): boolean {
  let live = liveByUrl.get(url);
  if (live === undefined) {
    // A clock step sends thousands of callbacks to the same few URLs: parse each once.
    try {
      const host = new URL(url).hostname.toLowerCase().replace(/\.$/, "");
      live = LIVE_VENDOR.test(host) || METADATA_HOSTS.has(host);
    } catch {
      live = false;
    }
    if (liveByUrl.size >= 1024) liveByUrl.clear();
    liveByUrl.set(url, live);
  }
  return live;
}
const liveByUrl = new Map<string, boolean>();
