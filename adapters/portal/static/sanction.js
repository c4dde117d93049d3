// The sanction form: the number of days belongs to a temporary exclusion
// only. The stylesheet hides the field for other kinds where the browser
// supports :has(); this disables it too, so that a hidden number is never
// sent. Without either, the field shows and the server ignores its value
// for other kinds.
(function () {
  'use strict';
  var kind = document.querySelector('[data-sanction-kind]');
  var days = document.querySelector('[data-sanction-days]');
  if (!kind || !days) { return; }
  var exclusion = kind.getAttribute('data-sanction-kind');

  function toggle() {
    var on = kind.value === exclusion;
    days.hidden = !on;
    days.disabled = !on;
  }

  kind.addEventListener('change', toggle);
  toggle();
}());
