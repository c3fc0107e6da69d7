// What the browser scenarios (browser*.mjs) share: Debian's chromium driven
// by playwright-core, the ok/FAIL lines the Python side prints, screenshots
// and the exit status.
//
// A step that leaves the page is awaited as
//   Promise.all([page.waitForNavigation({ url }), page.click(...)])
// and never with waitForURL, which returns at once when the page it is on
// already matches (one list page to the next), so the checks after it would
// read the old page while the new one loads.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

let failures = 0;

export function check(cond, what) {
	console.log(`${cond ? 'ok' : 'FAIL'} - ${what}`);
	if (!cond)
		failures++;
}

// An exception ends the scenario as one failure.
export function fail(e) {
	console.log(`FAIL - ${e.stack || e}`);
	failures++;
}

// playwright gives every launch a fresh --user-data-dir of its own
export function launch() {
	return chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
	});
}

// shot(page, name) writes DIR/name.png of the whole page.
export function screenshotter(dir) {
	fs.mkdirSync(dir, { recursive: true });
	return async (page, name) => {
		await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
	};
}

// Whether the element with this id gets the keyboard focus: Chromium moves
// it to an autofocus field after the load, at its next rendering update,
// which a loaded machine delays past the navigation's end.
export async function focusOn(page, id, timeout = 5000) {
	return page.waitForFunction(want => document.activeElement && document.activeElement.id === want,
				    id, { timeout }).then(() => true, () => false);
}

export function exitWithResult() {
	console.log(failures === 0 ? 'browser: all passed' : `browser: ${failures} failed`);
	process.exit(failures === 0 ? 0 : 1);
}
