// The roll call: counts the students marked absent or late as the teacher
// taps, and keeps a second tap on "submit" from sending the sheet twice
// (the form's idempotency key would record nothing twice anyway).
(function () {
  'use strict';
  var form = document.querySelector('[data-rollcall]');
  if (!form) { return; }
  var summary = form.querySelector('[data-rc-summary]');
  var submit = form.querySelector('[data-rc-submit]');
  var format = form.getAttribute('data-summary') || '%d / %d';

  function count() {
    var absent = form.querySelectorAll('input.rc-absent:checked').length;
    var late = form.querySelectorAll('input.rc-late:checked').length;
    if (summary) { summary.textContent = format.replace('%d', absent).replace('%d', late); }
  }

  form.addEventListener('change', function (ev) {
    var t = ev.target;
    if (t && t.classList && t.classList.contains('rc-late') && t.checked) {
      var row = t.closest ? t.closest('.rc-choices') : null;
      var minutes = row ? row.querySelector('input[type=number]') : null;
      if (minutes && window.matchMedia && window.matchMedia('(pointer: fine)').matches) { minutes.select(); }
    }
    count();
  });
  form.addEventListener('submit', function () {
    if (submit) {
      // Disabled after the submission is under way, so that its value is
      // still sent.
      setTimeout(function () { submit.disabled = true; }, 0);
    }
  });
  count();
}());
