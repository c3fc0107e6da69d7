// The webmail in a real browser: Debian's chromium driven by playwright-core.
//   node browser.mjs BASE_URL SCREENSHOT_DIR ADDRESS PASSWORD
// Signs in, changes the page size, pages, sorts, searches, reads a plain, an
// HTML and a multipart message, downloads an attachment and compares its
// bytes, blocks and shows images, opens the XSS corpus mail (no script may
// run), marks, moves, deletes, empties Trash (asked first), signs out; then the same on a
// phone-sized screen. Along the way: pages link an SVG icon that loads under
// their CSP, and a page shorter than the window (1280x900, a phone) fills it
// without a vertical scrollbar. A screenshot of each page goes to SCREENSHOT_DIR.
import { check, exitWithResult, fail, launch, screenshotter } from './browserlib.mjs';
import fs from 'node:fs';

const [base, shots, address, password] = process.argv.slice(2);
const browser = await launch();
const xssFired = [];

async function newPage(viewport) {
	const ctx = await browser.newContext({ viewport, acceptDownloads: true });
	const page = await ctx.newPage();
	page.on('dialog', async d => { xssFired.push(`dialog: ${d.message()}`); await d.dismiss(); });
	page.on('console', m => { if (m.text().includes('XSS-FIRED')) xssFired.push(`console: ${m.text()}`); });
	page.setDefaultTimeout(15000);
	return { ctx, page };
}

const shot = screenshotter(shots);

async function signIn(page) {
	await page.goto(`${base}/list`);
	check(page.url().includes('/login'), 'an unsigned visitor is sent to the sign-in page');
	await page.fill('#address', address);
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[type=submit]')]);
	check(/Inbox/.test(await page.title()), 'signing in leads to the inbox');
}

async function openMessage(page, subject) {
	await page.goto(`${base}/list?sort=date&dir=desc`);
	await Promise.all([page.waitForNavigation({ url: /\/msg\?/ }), page.click(`.messages a:has-text("${subject}")`)]);
}

async function rowFor(page, subject) {
	return page.locator('.messages li', { hasText: subject });
}

async function selectAndDo(page, subject, op, moveTo) {
	const row = await rowFor(page, subject);
	await row.locator('input[type=checkbox]').check();
	if (moveTo)
		await page.selectOption('#moveto', { label: moveTo });
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click(`button[name=op][value=${op}]`)]);
}

// A page shorter than the window (`to`: its URL, or a function that opens
// it): no vertical scrollbar, and the folders column, where it is one beside
// the page (not a phone's strip above it), ends at the window's bottom.
async function fitsWindow(page, to, shotName, what) {
	if (typeof to === 'string')
		await page.goto(to);
	else
		await to();
	if (shotName)
		await shot(page, shotName);
	const m = await page.evaluate(() => {
		const f = document.querySelector('.folders');
		const beside = f && getComputedStyle(f.parentElement).display === 'grid';
		return { scroll: document.documentElement.scrollHeight, inner: window.innerHeight,
			 folders: beside ? f.getBoundingClientRect().bottom : null };
	});
	check(m.scroll <= m.inner, `${what}: no vertical scrollbar (scrollHeight ${m.scroll}, window ${m.inner})`);
	if (m.folders !== null)
		check(Math.abs(m.folders - m.inner) < 0.5,
		      `${what}: the folders column reaches the bottom of the window (${m.folders})`);
}

// The page links an SVG icon from the webmail's static files, which loads
// as an image under the page's own Content-Security-Policy.
async function checkIcon(page, what) {
	const icon = page.locator('head link[rel~="icon"]');
	check(await icon.count() === 1, `${what} links an icon`);
	if (await icon.count() !== 1)
		return;
	const href = new URL(await icon.getAttribute('href'), page.url()).href;
	check(href.startsWith(`${base}/static/`) && href.endsWith('.svg'),
	      `${what}: the icon is an SVG of the static files (${href})`);
	const r = await page.request.get(href);
	check(r.status() === 200 && (r.headers()['content-type'] || '').startsWith('image/svg+xml'),
	      `${what}: the icon answers ${r.status()} ${r.headers()['content-type']}`);
	const loaded = await page.evaluate(async src => {
		let blocked = false;
		document.addEventListener('securitypolicyviolation', () => { blocked = true; });
		const img = new Image();
		img.src = src;
		try { await img.decode(); } catch (e) { return `not loaded (${e})`; }
		return blocked ? 'blocked by the CSP' : `${img.naturalWidth}x${img.naturalHeight}`;
	}, href);
	check(/^\d+x\d+$/.test(loaded) && !loaded.startsWith('0x'),
	      `${what}: the icon loads as an image under the page's CSP (${loaded})`);
}

async function folder(page, label) {
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click(`.folders a:has-text("${label}")`)]);
}

try {
	// ------------------------------------------------------------ desktop
	const { ctx, page } = await newPage({ width: 1280, height: 860 });
	await page.goto(`${base}/list`);
	await shot(page, 'desktop-01-signin');
	await checkIcon(page, 'the sign-in page');
	await signIn(page);
	await shot(page, 'desktop-02-inbox');
	await page.goto(base);
	check(page.url().includes('/list'), 'the bare base URL opens the inbox when signed in');

	// settings: 10 messages a page
	await page.goto(`${base}/settings`);
	await page.selectOption('#page_size', '10');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button:has-text("Save")')]);
	await shot(page, 'desktop-03-settings');
	await page.goto(`${base}/list`);
	const range1 = await page.textContent('.range');
	check(/^1–10 of \d+/.test(range1.trim()), `the first page shows 1–10 (${range1.trim()})`);
	check(await page.locator('.messages li').count() === 10, 'ten rows on a page');

	// a page shorter than the window fills it without a scrollbar (the
	// folders column reaching the bottom edge, not a pixel beyond), and the
	// browser has the icon the layout links (no request for /favicon.ico)
	await page.setViewportSize({ width: 1280, height: 900 });
	await fitsWindow(page, `${base}/list`, 'desktop-03b-list-1280x900', 'the list of ten at 1280x900');
	await fitsWindow(page, () => folder(page, 'Junk'), null, 'an empty folder at 1280x900');
	await checkIcon(page, 'the list');
	await page.setViewportSize({ width: 1280, height: 860 });
	await page.goto(`${base}/list`);

	// paging
	await Promise.all([page.waitForNavigation({ url: /page=1/ }), page.click('.pager a[rel=next]')]);
	const range2 = await page.textContent('.range');
	check(/^11–20 of/.test(range2.trim()), `the next page shows 11–20 (${range2.trim()})`);
	await shot(page, 'desktop-04-page2');

	// sorting by subject, both directions
	await page.goto(`${base}/list`);
	await Promise.all([page.waitForNavigation({ url: /sort=subject/ }), page.click('.sorts a:has-text("Subject")')]);
	let subjects = await page.locator('.messages .subject').allTextContents();
	const asc = [...subjects].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
	check(JSON.stringify(subjects.map(s => s.toLowerCase()[0])) ===
	      JSON.stringify(asc.map(s => s.toLowerCase()[0])), 'sorted by subject, A to Z');
	await Promise.all([page.waitForNavigation({ url: /dir=desc/ }), page.click('.sorts a.current')]);
	subjects = await page.locator('.messages .subject').allTextContents();
	check(subjects[0].toLowerCase() >= subjects[subjects.length - 1].toLowerCase(),
	      'sorted by subject, Z to A');
	await shot(page, 'desktop-05-sorted');
	await page.goto(`${base}/list?sort=size&dir=desc`);
	const sizes = await page.locator('.messages .size').allTextContents();
	check(sizes[0].includes('KB'), 'sorted by size, largest first');

	// search: subject, then body text, then sender
	await page.goto(`${base}/list`);
	await page.click('details.search summary');
	await page.fill('input[name=subject]', 'flowed');
	await Promise.all([page.waitForNavigation({ url: /subject=flowed/ }), page.click('button:has-text("Search")')]);
	subjects = await page.locator('.messages .subject').allTextContents();
	check(subjects.length === 1 && subjects[0] === 'Flowed text', 'search by subject finds one');
	await shot(page, 'desktop-06-search');
	await page.goto(`${base}/list?text=M%C3%BCnchen`);
	subjects = await page.locator('.messages .subject').allTextContents();
	check(subjects.length === 1 && subjects[0] === 'Grüße from Munich',
	      'search in the body finds the Latin-1 message');
	await page.goto(`${base}/list?from=eve%40example.com&since=2024-03-01&before=2024-03-31`);
	subjects = await page.locator('.messages .subject').allTextContents();
	check(subjects.length === 1 && subjects[0] === 'Files attached',
	      'search by sender address within a date range');

	// a plain message: headers, links made clickable, marked read
	await openMessage(page, 'Plain text message');
	check((await page.textContent('.msghead h1')).trim() === 'Plain text message', 'the subject shows');
	const link = page.locator('.text a[href^="https://example.org/plan"]');
	check(await link.count() === 1 && (await link.getAttribute('href')) === 'https://example.org/plan?x=1&y=2',
	      'a URL in the text is a link');
	check(await page.locator('.text .q1').count() >= 1, 'quoted lines are marked');
	await shot(page, 'desktop-07-plain');
	// at 1280 px the message's toolbar is one row (an unknown sender's
	// "Add to contacts" sits beside the sender, not in it)
	check(await page.locator('form.addsender button').count() === 1, 'an unknown sender can be added to contacts');
	const rows = await page.locator('.msgbar > *').evaluateAll(els =>
		new Set(els.filter(e => e.offsetParent !== null).map(e => Math.round(e.getBoundingClientRect().top))).size);
	check(rows === 1, `the message toolbar is one row at 1280 px (${rows})`);
	// "Add to contacts" keeps the From row as high as the To row
	const rowHeight = async dt => page.locator(`.msghead dt:text-is("${dt}") + dd`).evaluate(e => e.getBoundingClientRect().height);
	const fromH = await rowHeight('From'), toH = await rowHeight('To');
	check(fromH <= toH + 2, `the From row is as high as the To row (${fromH} and ${toH} px)`);
	// Ctrl-P on the message page prints the message alone, as the print view
	await page.emulateMedia({ media: 'print' });
	const printed = await page.evaluate(() => ['header.top', '.folders', '.msgbar', 'form.addsender'].map(
		sel => [...document.querySelectorAll(sel)].some(e => e.offsetParent !== null || getComputedStyle(e).display !== 'none')));
	check(!printed.some(Boolean) && await page.isVisible('.msghead h1'),
	      `printing the message page leaves out the frame and the controls (${printed})`);
	await page.emulateMedia({ media: 'screen' });
	await page.setViewportSize({ width: 1280, height: 900 });
	await fitsWindow(page, page.url(), null, 'a short message at 1280x900');
	await page.setViewportSize({ width: 1280, height: 860 });
	await page.goto(`${base}/list?sort=date&dir=desc`);
	check(!(await (await rowFor(page, 'Plain text message')).getAttribute('class')).includes('unread'),
	      'an opened message is marked read');

	// all headers, source, .eml, print, next/previous
	await openMessage(page, 'Plain text message');
	await page.click('details.more summary');
	await Promise.all([page.waitForNavigation({ url: /headers=1/ }), page.click('details.more a:has-text("All headers")')]);
	check((await page.textContent('pre.allheaders')).includes('Message-ID:'), 'all headers can be shown');
	const abs = async sel => new URL(await page.locator(sel).getAttribute('href'), page.url()).href;
	const raw = await page.request.get(await abs('details.more a:has-text("View source")'));
	check(raw.ok() && (await raw.text()).includes('Subject: Plain text message') &&
	      raw.headers()['content-type'].startsWith('text/plain'), 'the source is shown as plain text');
	const eml = await page.request.get(await abs('details.more a:has-text("Download")'));
	check(eml.ok() && /attachment; filename="message-\d+\.eml"/.test(eml.headers()['content-disposition']),
	      'the message downloads as .eml');
	await page.goto(await abs('details.more a:has-text("Print")'));
	check((await page.textContent('.msghead h1')).trim() === 'Plain text message' &&
	      await page.locator('.folders').count() === 0 && !(await page.isVisible('form.addsender')),
	      'the print view shows the message alone');
	await shot(page, 'desktop-07b-print');
	await checkIcon(page, 'the print view');
	await openMessage(page, 'Plain text message');
	const next = page.locator('a[rel=next]');
	check(await next.count() === 1, 'a message has a "next" link');
	await Promise.all([page.waitForNavigation({ url: /pos=/ }), next.click()]);
	check((await page.textContent('.msghead h1')).trim() !== 'Plain text message', '"next" opens another message');
	check(await page.locator('a[rel=prev]').count() === 1, 'and that one has a "previous" link');

	// flowed and Latin-1
	await openMessage(page, 'Flowed text');
	const flowed = await page.textContent('.text');
	check(flowed.includes('wrapped by a format=flowed mailer so it continues'), 'format=flowed is joined');
	await openMessage(page, 'Grüße from Munich');
	check((await page.textContent('.text')).includes('Grüße aus München'), 'Latin-1 text is shown as UTF-8');
	check((await page.textContent('.headers')).includes('Jürgen'), 'an encoded-word sender is decoded');

	// an HTML message: sanitised, in a sandboxed frame, remote images blocked
	await openMessage(page, 'HTML newsletter');
	const frameEl = page.locator('iframe.html');
	check(await frameEl.count() === 1, 'HTML shows in a frame');
	check((await frameEl.getAttribute('sandbox')).split(' ').indexOf('allow-scripts') < 0,
	      'the frame is sandboxed without scripts');
	let frame = page.frameLocator('iframe.html');
	await frame.locator('#title').waitFor();
	check((await frame.locator('#remote').getAttribute('src')) === null, 'the remote image is blocked');
	const inl = await frame.locator('#inline').getAttribute('src');
	check(inl !== null && inl.includes('/part?'), 'the cid: image points at its part');
	check(await frame.locator('#inline').evaluate(img => img.complete && img.naturalWidth === 1),
	      'the cid: image loads');
	check(await page.locator('.notice.images').count() === 1, 'a "show images" notice is shown');
	await shot(page, 'desktop-08-html-blocked');
	await Promise.all([page.waitForNavigation({ url: /images=1/ }), page.click('.notice.images a')]);
	frame = page.frameLocator('iframe.html');
	await frame.locator('#title').waitFor();
	check((await frame.locator('#remote').getAttribute('src')) === 'https://tracker.example.net/pixel.png',
	      '"show images" brings the remote image back');
	await shot(page, 'desktop-09-html-shown');

	// multipart/alternative follows the setting
	await page.goto(`${base}/settings`);
	await page.check('input[name=view][value=text]');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button:has-text("Save")')]);
	await openMessage(page, 'HTML newsletter');
	check(await page.locator('iframe.html').count() === 0 &&
	      (await page.textContent('.text')).includes('Newsletter (text version)'),
	      'with "plain text" chosen, the text alternative shows');
	await page.goto(`${base}/settings`);
	await page.check('input[name=view][value=html]');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button:has-text("Save")')]);

	// a multipart message: attachments, download, preview, attached message
	await openMessage(page, 'Files attached');
	const names = await page.locator('.attachments .name').allTextContents();
	check(names.includes('data.bin') && names.includes('red dot.png'), `attachments are listed (${names})`);
	const [download] = await Promise.all([
		page.waitForEvent('download'),
		page.click('.attachments a.name:has-text("data.bin")'),
	]);
	const file = await download.path();
	const got = fs.readFileSync(file);
	const want = Buffer.alloc(256 * 40);
	for (let i = 0; i < want.length; i++)
		want[i] = i % 256;
	check(got.equals(want), `the downloaded attachment has the same bytes (${got.length})`);
	check(download.suggestedFilename() === 'data.bin', 'the download keeps its name');
	check(await page.locator('.attachments .thumb img').evaluate(img => img.complete && img.naturalWidth === 1),
	      'the image attachment previews');
	await shot(page, 'desktop-10-attachments');
	await Promise.all([page.waitForNavigation({ url: /part=/ }), page.click('.attachments a:has-text("View message")')]);
	check((await page.textContent('.msghead h1')).trim() === 'Forwarded inner message',
	      'an attached message can be read');
	await shot(page, 'desktop-11-attached-message');

	// the XSS corpus: nothing may run
	await openMessage(page, 'XSS corpus');
	await page.frameLocator('iframe.html').locator('body').waitFor();
	await page.waitForTimeout(1500);
	await shot(page, 'desktop-12-xss');
	await page.click('.notice.images a').catch(() => {});
	await page.waitForTimeout(1500);
	check(xssFired.length === 0, `no script ran from the XSS corpus (${xssFired.join('; ')})`);

	// mark, move, delete
	await page.goto(`${base}/list?sort=date&dir=desc`);
	await selectAndDo(page, 'Flowed text', 'flag');
	check((await (await rowFor(page, 'Flowed text')).getAttribute('class')).includes('flagged'),
	      'a message can be flagged');
	await selectAndDo(page, 'Flowed text', 'unread');
	check((await (await rowFor(page, 'Flowed text')).getAttribute('class')).includes('unread'),
	      'a message can be marked unread');
	await selectAndDo(page, 'Flowed text', 'move', 'Archive');
	check(await (await rowFor(page, 'Flowed text')).count() === 0, 'a moved message leaves the inbox');
	await folder(page, 'Archive');
	check(await (await rowFor(page, 'Flowed text')).count() === 1, 'and is in Archive');
	await shot(page, 'desktop-13-archive');
	// from the Inbox, a search in all folders finds it where it went
	await folder(page, 'Inbox');
	await page.click('details.search summary');
	await page.fill('input[name=subject]', 'flowed');
	await page.selectOption('select[name=in]', 'all');
	await Promise.all([page.waitForNavigation({ url: /in=all/ }), page.click('button:has-text("Search")')]);
	const found = await page.locator('.messages .subject').allTextContents();
	check(found.length === 1 && found[0].replace(/\s+/g, ' ').trim() === 'Archive Flowed text',
	      `a search in all folders finds the moved message, marked with its folder (${found})`);
	await shot(page, 'desktop-13b-search-all-folders');
	await folder(page, 'Archive');
	await selectAndDo(page, 'Flowed text', 'delete');
	await folder(page, 'Trash');
	check(await (await rowFor(page, 'Flowed text')).count() === 1, 'a deleted message goes to Trash');
	await shot(page, 'desktop-14-trash');
	await Promise.all([page.waitForNavigation({ url: /\/empty/ }), page.click('button:has-text("Empty Trash")')]);
	check((await page.textContent('h1')).trim() === 'Empty Trash?', 'emptying Trash asks first');
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button:has-text("Empty Trash")')]);
	check(await page.locator('.messages li').count() === 0, 'Trash can be emptied');

	// sign out
	await Promise.all([page.waitForNavigation({ url: /bye=1/ }), page.click('button:has-text("Sign out")')]);
	check((await page.textContent('.notice')).includes('signed out'), 'signing out says so');
	await shot(page, 'desktop-15-signed-out');
	await page.goto(`${base}/list`);
	check(page.url().includes('/login'), 'after signing out the inbox needs a new sign-in');
	await ctx.close();

	// ------------------------------------------------------------ phone
	const phone = await newPage({ width: 390, height: 844 });
	await signIn(phone.page);
	await shot(phone.page, 'phone-01-inbox');
	const box = await phone.page.locator('.messages').boundingBox();
	check(box !== null && box.width <= 390, 'the list fits a phone screen');
	await openMessage(phone.page, 'HTML newsletter');
	await shot(phone.page, 'phone-02-html');
	await openMessage(phone.page, 'Files attached');
	await shot(phone.page, 'phone-03-attachments');
	const scrollW = await phone.page.evaluate(() => document.documentElement.scrollWidth);
	check(scrollW <= 391, `no sideways scrolling on a phone (${scrollW})`);
	const bar = await phone.page.evaluate(() => {
		const tops = new Set([...document.querySelectorAll('.msgbar .btn')]
			.filter((b) => b.offsetParent !== null)
			.map((b) => Math.round(b.getBoundingClientRect().top)));
		// the menu's first line against the room inside it (padding, arrow)
		const sel = document.querySelector('.msgbar .move select');
		const cs = getComputedStyle(sel);
		const probe = document.createElement('span');
		probe.style.font = cs.font;
		probe.style.whiteSpace = 'pre';
		probe.style.position = 'absolute';
		probe.textContent = sel.options[0].text;
		document.body.append(probe);
		const text = probe.getBoundingClientRect().width;
		probe.remove();
		const room = sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16;
		const strip = document.querySelector('.folders ul');
		const fades = getComputedStyle(strip).maskImage || getComputedStyle(strip).webkitMaskImage;
		return { rows: tops.size, text, room, scrolls: strip.scrollWidth > strip.clientWidth,
			 fades: fades !== undefined && fades !== 'none' };
	});
	check(bar.rows <= 3, `the message toolbar takes at most three rows on a phone (${bar.rows})`);
	check(bar.text <= bar.room, `"Move to…" is not cut short on a phone (${bar.text.toFixed(0)} px ` +
	      `of text in ${bar.room.toFixed(0)} px)`);
	check(bar.scrolls && bar.fades, 'the folder strip scrolls sideways and its edge fades to say so');
	await fitsWindow(phone.page, () => folder(phone.page, 'Junk'), 'phone-04-empty-folder',
			 'an empty folder on a phone');
	await phone.ctx.close();
} catch (e) {
	fail(e);
} finally {
	await browser.close();
}
exitWithResult();
