// The address book in a real browser (Debian's chromium via playwright-core):
//   node browser_contacts.mjs BASE_URL SCREENSHOT_DIR ADDRESS PASSWORD
// Adds a message's sender with "Add to contacts", adds a contact with the
// form, then on the compose page checks that complete.js runs under the
// page's CSP and completes the address after the last comma of To (a
// quoted name with a comma included), while the datalist alone offers the
// contacts for the first one. A screenshot of each step goes to SCREENSHOT_DIR.
import { check, exitWithResult, fail, launch, screenshotter } from './browserlib.mjs';

const [base, shots, address, password] = process.argv.slice(2);
const browser = await launch();
const cspErrors = [];

const shot = screenshotter(shots);

const options = page => page.$$eval('#contacts option', os => os.map(o => o.value));

async function typeInto(page, selector, text) {
	await page.fill(selector, '');
	await page.focus(selector);
	await page.keyboard.type(text);
}

try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(15000);
	page.on('console', m => {
		if (/Content Security Policy|Refused to/i.test(m.text()))
			cspErrors.push(m.text());
	});
	await page.goto(`${base}/login`);
	await page.fill('#address', address);
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[type=submit]')]);

	// ------------------------------------------------------------ add the sender
	await Promise.all([page.waitForNavigation({ url: /\/contacts/ }), page.click('header a:has-text("Contacts")')]);
	check(await page.isVisible('text=No contacts yet'), 'the address book starts empty');
	await shot(page, '01-empty');
	await page.goto(`${base}/list`);
	await Promise.all([page.waitForNavigation({ url: /\/msg\?/ }), page.click('.messages a:has-text("Hello from Zoe")')]);
	await Promise.all([page.waitForNavigation({ url: /contact=added/ }), page.click('button:has-text("Add to contacts")')]);
	check(await page.isVisible('text=zoe@example.net is in your contacts now'),
		'"Add to contacts" adds the sender and says so');
	check(!(await page.isVisible('button:has-text("Add to contacts")')), '... and the button is gone');
	await shot(page, '02-sender-added');

	// ------------------------------------------------------------ the form
	await page.goto(`${base}/contacts`);
	await Promise.all([page.waitForNavigation({ url: /\/contacts\/edit/ }), page.click('a:has-text("New contact")')]);
	await page.fill('#name', 'Doe, Jane');
	await page.fill('#emails', 'jane@example.com\njane@work.example');
	await page.fill('#note', 'Met at the conference.');
	await shot(page, '03-form');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button:has-text("Save")')]);
	check(await page.isVisible('text=The contact was saved.'), 'the form saves a contact');
	const rows = await page.$$eval('.contacts-table tbody th', ths => ths.map(t => t.textContent.trim()));
	check(JSON.stringify(rows) === JSON.stringify(['Doe, Jane', 'Zoë Sender']),
		`the list is sorted by name (${rows})`);
	await shot(page, '04-list');

	// ------------------------------------------------------------ completion
	await page.goto(`${base}/compose`);
	check(cspErrors.length === 0, `complete.js loads under the page's CSP (${cspErrors})`);
	const all = await options(page);
	check(all.includes('Zoë Sender <zoe@example.net>') && all.includes('"Doe, Jane" <jane@example.com>'),
		`the datalist offers every address (${all.length})`);
	await typeInto(page, '#to', 'zo');
	let got = await options(page);
	check(got.length === 1 && got[0] === 'Zoë Sender <zoe@example.net>',
		`typing the first address filters the options (${got})`);
	await typeInto(page, '#to', 'Zoë Sender <zoe@example.net>, ja');
	got = await options(page);
	check(got.length === 2 && got.every(v => v.startsWith('Zoë Sender <zoe@example.net>, "Doe, Jane" <jane@')),
		`after a comma the options complete the second address (${got})`);
	await typeInto(page, '#cc', '"Doe, Jane" <jane@example.com>, zo');
	got = await options(page);
	check(got.length === 1 && got[0] === '"Doe, Jane" <jane@example.com>, Zoë Sender <zoe@example.net>',
		`a comma inside a quoted name is not a separator (${got})`);
	await typeInto(page, '#bcc', 'nobody-matches');
	check((await options(page)).length === 0, 'nothing matches: no options');
	await typeInto(page, '#to', 'Zoë Sender <zoe@example.net>, ja');
	await shot(page, '05-compose');

	// ------------------------------------------------------------ phone
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
	const p2 = await phone.newPage();
	await p2.context().addCookies(await ctx.cookies());
	await p2.goto(`${base}/contacts`);
	check(await p2.isVisible('.contacts-table'), 'the list fits a phone');
	await shot(p2, '06-phone');
	await phone.close();
	await ctx.close();
} catch (e) {
	fail(e);
} finally {
	await browser.close();
}
exitWithResult();
