/* Address completion for the To, Cc and Bcc fields (any input with
 * list="contacts"). The page's <datalist id="contacts"> already completes
 * the first address without this file; browsers match a datalist against
 * the whole field, so after "alice@x, bo" they offer nothing. This script
 * rewrites the options as "what is typed up to the last comma" + each
 * contact matching what follows it, so the browser's own suggestion list
 * (keyboard and screen reader friendly) completes every address. */
(function () {
	'use strict';
	var list = document.getElementById('contacts');
	if (!list) {
		return;
	}
	var SHOWN_MAX = 50;
	var contacts = Array.prototype.map.call(list.options, function (o) {
		return { value: o.value, key: o.value.toLowerCase() };
	});

	/* Where the last address starts: after the last comma outside quotes
	 * and angle brackets. */
	function lastStart(text) {
		var quoted = false, angle = false, start = 0;
		for (var i = 0; i < text.length; i++) {
			var ch = text.charAt(i);
			if (ch === '\\' && quoted) {
				i++;
			} else if (ch === '"') {
				quoted = !quoted;
			} else if (!quoted && ch === '<') {
				angle = true;
			} else if (!quoted && ch === '>') {
				angle = false;
			} else if (!quoted && !angle && (ch === ',' || ch === ';')) {
				start = i + 1;
			}
		}
		return start;
	}

	function update(input) {
		var text = input.value;
		var start = lastStart(text);
		var head = text.slice(0, start);
		var term = text.slice(start).replace(/^\s+/, '').toLowerCase();
		if (start > 0) {
			head = head.replace(/\s*$/, ' ');
		}
		var fragment = document.createDocumentFragment();
		var shown = 0;
		for (var i = 0; i < contacts.length && shown < SHOWN_MAX; i++) {
			if (term !== '' && contacts[i].key.indexOf(term) < 0) {
				continue;
			}
			var option = document.createElement('option');
			option.value = head + contacts[i].value;
			fragment.appendChild(option);
			shown++;
		}
		while (list.firstChild) {
			list.removeChild(list.firstChild);
		}
		list.appendChild(fragment);
	}

	var inputs = document.querySelectorAll('input[list="contacts"], textarea[list="contacts"]');
	Array.prototype.forEach.call(inputs, function (input) {
		input.setAttribute('autocomplete', 'off');
		input.addEventListener('input', function () { update(input); });
		input.addEventListener('focus', function () { update(input); });
	});
}());
