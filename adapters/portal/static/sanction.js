// The sanction form shows each part for the kinds it belongs to (the
// scale of art. R. 511-13 of the Code de l'éducation): days for the
// temporary exclusions, hours for a mesure de responsabilisation, a
// service annexe for the exclusions from the establishment, a sursis from
// the mesure de responsabilisation on, the council's sitting when the
// council pronounces (always for an exclusion définitive). The stylesheet
// does the same where the browser supports :has(); this also disables the
// hidden fields, so that they are never sent. Without either, every part
// shows and the server ignores what does not belong to the kind.
(function () {
  'use strict';
  var kind = document.querySelector('[data-sanction-kind]');
  var authority = document.querySelector('[data-sanction-authority]');
  if (!kind) { return; }
  var dayKinds = (kind.getAttribute('data-day-kinds') || '').split(' ');
  var councilKind = kind.getAttribute('data-council-kind');
  var scale = ['avertissement', 'blame', 'mesure_de_responsabilisation',
    'exclusion_temporaire_classe', 'exclusion_temporaire_etablissement', 'exclusion_definitive'];

  function shown(part, k) {
    switch (part) {
      case 'days': return dayKinds.indexOf(k) >= 0;
      case 'hours': return k === 'mesure_de_responsabilisation';
      case 'annex': return k === 'exclusion_temporaire_etablissement' || k === councilKind;
      case 'sursis': return scale.indexOf(k) >= 2;
      case 'council': return k === councilKind || (authority && authority.value === 'conseil_de_discipline');
    }
    return true;
  }

  function toggle() {
    var k = kind.value;
    if (authority && k === councilKind) { authority.value = 'conseil_de_discipline'; }
    var parts = document.querySelectorAll('[data-sanction-part]');
    for (var i = 0; i < parts.length; i++) {
      var on = shown(parts[i].getAttribute('data-sanction-part'), k);
      parts[i].hidden = !on;
      var inputs = parts[i].querySelectorAll('input, select, textarea');
      for (var j = 0; j < inputs.length; j++) { inputs[j].disabled = !on; }
    }
  }

  kind.addEventListener('change', toggle);
  if (authority) { authority.addEventListener('change', toggle); }
  toggle();
}());
