// The webmail as a Roundcube user on a phone, by keyboard and with a screen
// reader would use it (Debian's chromium via playwright-core):
//   node browser_a11y.mjs BASE_URL SCREENSHOT_DIR ADDRESS PASSWORD
// On a 390x844 phone: axe-core on each main page (no serious or critical
// violation), nothing running off the screen sideways (long subjects and
// addresses, a wide HTML mail), fields big enough that the phone does not
// zoom into them. On a 1366x768 desktop: axe again, then a keyboard-only
// path (skip link, a visible focus ring that stands out, selecting and
// flagging messages, into and out of the message frame, whose document
// scrolls by keyboard) and what a Roundcube user expects: the unread count
// in the title, a confirmation after an action, the same list page, sort
// and search after it, "Select all", the next message after a delete, and
// "Mark unread" that stays unread. A screenshot of each phone page goes to
// SCREENSHOT_DIR.
import { check, exitWithResult, fail, focusOn, launch, screenshotter } from './browserlib.mjs';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const [base, shots, address, password] = process.argv.slice(2);
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];
const browser = await launch();
const shot = screenshotter(shots);

// axe-core in the page (evaluated, so the page's CSP does not apply to it);
// the message frame is the sender's content and is left out. Lesser
// findings are printed, not failed.
async function axe(page, what) {
	await page.evaluate(axeSource);
	const found = await page.evaluate(async tags => {
		const r = await window.axe.run(document, { iframes: false, runOnly: { type: 'tag', values: tags } });
		return r.violations.map(v => ({ id: v.id, impact: v.impact,
			nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') }));
	}, AXE_TAGS);
	const bad = found.filter(v => v.impact === 'serious' || v.impact === 'critical');
	for (const v of found.filter(v => !bad.includes(v)))
		console.log(`# ${what}: axe ${v.impact} ${v.id} at ${v.nodes}`);
	check(bad.length === 0, `${what}: no serious or critical axe violation` +
	      (bad.length ? ` (${bad.map(v => `${v.impact} ${v.id} at ${v.nodes}`).join('; ')})` : ''));
}

/* Against the viewport the context was made with: under isMobile a wide
 * page makes window.innerWidth grow with it, so that would always pass. */
async function noSideways(page, what) {
	const w = page.viewportSize().width;
	const sw = await page.evaluate(() => document.documentElement.scrollWidth);
	check(sw <= w, `${what}: nothing runs off the screen sideways (scrollWidth ${sw}, screen ${w})`);
}

async function go(page, path) {
	await page.goto(`${base}${path}`);
}

async function openRow(page, listPath, subject) {
	await go(page, listPath);
	await Promise.all([page.waitForNavigation({ url: /\/msg\?/ }),
		page.click(`.messages li:has-text("${subject}") a.open`)]);
}

async function signIn(page) {
	await go(page, '/login');
	await page.fill('#address', address);
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.keyboard.press('Enter')]);
}

// One phone page: its screenshot, axe and the sideways check.
async function phonePage(page, name, what) {
	await shot(page, name);
	await axe(page, `phone, ${what}`);
	await noSideways(page, `phone, ${what}`);
}

// The relative luminance contrast of a CSS rgb() colour against white.
function contrastOnWhite(rgb) {
	const [r, g, b] = rgb.match(/[\d.]+/g).slice(0, 3).map(v => {
		const c = Number(v) / 255;
		return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
	});
	return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
}

// What has the keyboard focus in the top document, with its focus ring.
function focused(page) {
	return page.evaluate(() => {
		const e = document.activeElement;
		const cs = getComputedStyle(e);
		const r = e.getBoundingClientRect();
		return { tag: e.tagName.toLowerCase(), cls: e.className, type: e.type || '', value: e.value || '',
			 checked: !!e.checked, text: (e.textContent || '').trim().slice(0, 40),
			 inMain: !!e.closest('main'), inRow: !!e.closest('.messages'),
			 ring: cs.outlineStyle !== 'none' ? parseFloat(cs.outlineWidth) : 0, ringColor: cs.outlineColor,
			 onScreen: r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight };
	});
}

// Tab (or Shift+Tab) until `want` holds for the focused element, at most
// `max` times; every stop on the way must show a ring that stands out.
async function tabTo(page, want, what, { back = false, max = 60 } = {}) {
	const weak = [];
	for (let i = 0; i < max; i++) {
		await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
		const f = await focused(page);
		if (f.tag !== 'body' && f.tag !== 'iframe' &&
		    (f.ring < 2 || contrastOnWhite(f.ringColor) < 3))
			weak.push(`${f.tag} "${f.text}" ${f.ring}px ${f.ringColor}`);
		if (want(f)) {
			check(weak.length === 0, `${what}: each stop on the way shows a focus ring of 3:1 or more` +
			      (weak.length ? ` (${weak.slice(0, 3).join('; ')})` : ''));
			return f;
		}
	}
	check(false, `${what}: reached by keyboard within ${max} presses`);
	return null;
}

try {
	// ------------------------------------------------------------ phone
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
	let page = await phone.newPage();
	page.setDefaultTimeout(15000);
	await go(page, '/login');
	await phonePage(page, 'phone-01-signin', 'the sign-in page');
	await page.fill('#address', address);
	await page.fill('#password', 'not-the-password');
	await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
	check(await page.locator('.error[role=alert]').count() === 1 &&
	      await focusOn(page, 'password'),
	      'a wrong password says so and puts the cursor in the password field, the address kept');
	await phonePage(page, 'phone-02-signin-wrong', 'a failed sign-in');
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.keyboard.press('Enter')]);
	await phonePage(page, 'phone-03-inbox', 'the inbox');
	await go(page, '/list?subject=Filler');
	await phonePage(page, 'phone-04-search', 'a search with its form open');
	for (const [name, subject] of [['05-plain', 'Plain text message'], ['06-html', 'HTML newsletter'],
				       ['07-attachments', 'Files attached'], ['08-long', 'Quarterly planning'],
				       ['09-rtl', 'مرحبا']]) {
		await openRow(page, '/list?sort=date&dir=desc', subject);
		await phonePage(page, `phone-${name}`, `the message "${subject}"`);
	}
	await openRow(page, '/list?sort=date&dir=desc', 'Wide table newsletter');
	await page.frameLocator('iframe.html').locator('table').waitFor();
	await phonePage(page, 'phone-10-wide-html', 'a wide HTML message');
	const inner = await page.evaluate(() => {
		const d = document.querySelector('iframe.html').contentDocument;
		return { sw: d.documentElement.scrollWidth, w: d.documentElement.clientWidth, title: d.title };
	});
	check(inner.sw <= inner.w, `a wide HTML mail fits its frame on a phone (scrollWidth ${inner.sw}, frame ${inner.w})`);
	check(inner.title !== '', `the message frame's document has a title (${inner.title})`);
	await go(page, '/compose');
	await phonePage(page, 'phone-11-compose', 'a new message');
	const small = await page.evaluate(() => [...document.querySelectorAll('.composeform input:not([type=hidden]):not([type=file]):not([type=checkbox]), .composeform select, .composeform textarea')]
		.filter(e => parseFloat(getComputedStyle(e).fontSize) < 16).map(e => e.id));
	check(small.length === 0, `the compose fields have 16px text, so a phone does not zoom into them (${small})`);
	check(await focusOn(page, 'to'), 'a new message starts in the To field');
	await openRow(page, '/list?sort=date&dir=desc', 'Plain text message');
	await Promise.all([page.waitForNavigation({ url: /mode=reply/ }), page.click('.replybar a:has-text("Reply")')]);
	check(await focusOn(page, 'body'), 'a reply starts in the text');
	await phonePage(page, 'phone-12-reply', 'a reply');
	for (const [name, path, what] of [['13-settings', '/settings', 'the settings'], ['14-password', '/password', 'the password page'],
					  ['15-folders', '/folders', 'the folders page'], ['16-setup', '/setup', 'the mail apps page'],
					  ['17-contacts', '/contacts', 'the contacts'], ['18-contact-new', '/contacts/edit', 'a new contact'],
					  ['19-not-found', '/msg?mb=1&uid=999999', 'an error page'],
					  ['20-vacation', '/vacation', 'the out-of-office page'],
					  ['21-filters', '/filters', 'the filters page'],
					  ['22-filter-new', '/filters?edit=new', 'a new filter rule']]) {
		await go(page, path);
		await phonePage(page, `phone-${name}`, what);
	}
	await phone.close();

	// ------------------------------------------------------------ desktop
	const desk = await browser.newContext({ viewport: { width: 1366, height: 768 } });
	page = await desk.newPage();
	page.setDefaultTimeout(15000);
	await signIn(page);
	await go(page, '/settings');
	await page.selectOption('#page_size', '10');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }),
		page.click('form:has(input[name=section][value=prefs]) button[type=submit]')]);
	await axe(page, 'desktop, the settings');
	await go(page, '/list?sort=date&dir=desc');
	await axe(page, 'desktop, the inbox');
	check(/^Inbox \(\d+ unread\), page 1 of \d+ · Pillarbox$/.test(await page.title()),
	      `the title says the folder, its unread count and the page (${await page.title()})`);
	await openRow(page, '/list?sort=date&dir=desc', 'HTML newsletter');
	await axe(page, 'desktop, an HTML message with images blocked');
	await go(page, '/compose');
	await axe(page, 'desktop, a new message');
	await go(page, '/contacts');
	await axe(page, 'desktop, the contacts');

	// keyboard: the skip link, then select two messages and flag them
	await go(page, '/list?sort=subject&dir=asc&page=1');
	await page.keyboard.press('Tab');
	let f = await focused(page);
	check(f.cls.includes('skip') && f.onScreen && f.ring >= 2, 'the first Tab shows a "Skip to content" link');
	await page.keyboard.press('Enter');
	await page.keyboard.press('Tab');
	check((await focused(page)).inMain, 'the skip link leads into the page content');
	f = await tabTo(page, g => g.type === 'checkbox' && g.inRow, 'the first message\'s checkbox');
	await page.keyboard.press('Space');
	await page.keyboard.press('Tab');
	await page.keyboard.press('Tab');
	await page.keyboard.press('Space');
	check(await page.locator('.messages input:checked').count() === 2, 'Space selects two messages');
	await tabTo(page, g => g.tag === 'button' && g.value === 'flag', '"Flag", back up the page', { back: true });
	await Promise.all([page.waitForNavigation({ url: /done=flag/ }), page.keyboard.press('Enter')]);
	check((await page.textContent('.notice.done')).trim() === '2 messages flagged.', 'flagging says so');
	check(/sort=subject/.test(page.url()) && /dir=asc/.test(page.url()) && /page=1/.test(page.url()) &&
	      await page.locator('.messages li.flagged').count() === 2,
	      `and comes back to the same page and sort (${page.url()})`);
	await axe(page, 'desktop, the list with a confirmation');

	// keyboard in the message frame: in, scrolled, and out again
	await openRow(page, '/list?sort=date&dir=desc', 'Long HTML without links');
	await page.frameLocator('iframe.html').locator('p').first().waitFor();
	// the last control before the message: "Add to contacts" beside an
	// unknown sender, else the toolbar's "More"
	await page.focus(await page.locator('form.addsender button').count() ?
			 'form.addsender button' : 'details.more summary');
	await page.keyboard.press('Tab');
	const inFrame = await page.evaluate(() => {
		const d = document.querySelector('iframe.html').contentDocument;
		const cs = getComputedStyle(d.activeElement);
		return { top: document.activeElement.tagName, inner: d.activeElement.tagName,
			 ring: d.activeElement.matches(':focus-visible') && cs.outlineStyle !== 'none'
			       ? parseFloat(cs.outlineWidth) : 0 };
	});
	check(inFrame.top === 'IFRAME' && inFrame.ring >= 2,
	      `Tab reaches a message without links, with a visible ring (${JSON.stringify(inFrame)})`);
	await page.keyboard.press('PageDown');
	await page.waitForTimeout(200);
	const top = await page.evaluate(() => document.querySelector('iframe.html').contentDocument.scrollingElement.scrollTop);
	check(top > 0, `Page Down then scrolls the message (${top}px)`);
	await page.keyboard.press('Tab');
	check((await focused(page)).tag !== 'iframe', 'and Tab leaves it');
	await openRow(page, '/list?sort=date&dir=desc', 'HTML newsletter');
	await page.frameLocator('iframe.html').locator('a').waitFor();
	await page.focus('.notice.images a');
	let inLink = false;
	for (let i = 0; i < 3 && !inLink; i++) {    /* the frame's body, then its link */
		await page.keyboard.press('Tab');
		inLink = await page.evaluate(() => {
			const d = document.querySelector('iframe.html').contentDocument;
			return document.activeElement.tagName === 'IFRAME' && d.activeElement.tagName === 'A';
		});
	}
	check(inLink, 'Tab reaches a link inside an HTML message');
	await page.keyboard.press('Tab');
	check((await focused(page)).tag !== 'iframe', 'and the next Tab leaves the message: no keyboard trap');

	// what a Roundcube user expects
	await go(page, '/list?sort=date&dir=desc');
	await page.click('.actions a:has-text("Select all")');
	await page.waitForURL(/select=all/);
	const boxes = await page.locator('.messages input[type=checkbox]').count();
	check(boxes > 0 && await page.locator('.messages input:checked').count() === boxes,
	      '"Select all" selects every message on the page');
	await Promise.all([page.waitForNavigation(), page.click('.actions a:has-text("Select none")')]);
	check(await page.locator('.messages input:checked').count() === 0, '"Select none" clears them');

	await go(page, '/list?subject=Filler&page=1');
	const moved = (await page.locator('.messages .subject').first().textContent()).trim();
	await page.locator('.messages input[type=checkbox]').first().check();
	await page.selectOption('#moveto', { label: 'Archive' });
	await Promise.all([page.waitForNavigation({ url: /done=move/ }), page.click('button[value=move]')]);
	check((await page.textContent('.notice.done')).trim() === 'Message moved to Archive.',
	      'moving says where to');
	check(/subject=Filler/.test(page.url()) && /page=1/.test(page.url()) &&
	      await page.locator('.messages li', { hasText: moved }).count() === 0,
	      `and comes back to the same search and page (${page.url()})`);
	await openRow(page, '/list?subject=Filler', 'Filler');
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('.msgbar a:has-text("Inbox")')]);
	check(/subject=Filler/.test(page.url()), `a message opened from a search leads back to the search (${page.url()})`);

	await go(page, '/list?sort=date&dir=desc');
	const second = (await page.locator('.messages .subject').nth(1).textContent()).trim();
	await openRow(page, '/list?sort=date&dir=desc', (await page.locator('.messages .subject').first().textContent()).trim());
	await Promise.all([page.waitForNavigation({ url: /done=delete/ }), page.click('button[value=delete]')]);
	check(page.url().includes('/msg?') && (await page.textContent('.msghead h1')).trim() === second,
	      `deleting a message opens the next one (${second})`);
	check((await page.textContent('.notice.done')).trim() === 'Message moved to Trash.', 'and says where it went');

	await openRow(page, '/list?sort=date&dir=desc', 'Plain text message');
	await Promise.all([page.waitForNavigation(), page.click('button[value=unread]')]);
	const row = page.locator('.messages li', { hasText: 'Plain text message' });
	check(page.url().includes('/list') && (await row.getAttribute('class')).includes('unread'),
	      '"Mark unread" in a message leaves it unread (back in the list)');
	check((await page.textContent('.notice.done')).trim() === 'Message marked as unread.', 'and says so');
	await desk.close();
} catch (e) {
	fail(e);
} finally {
	await browser.close();
}
exitWithResult();
