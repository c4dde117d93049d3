package simulation

import (
	"fmt"
	"math/rand/v2"
)

// Names and texts. Everything here is made up; names are common French
// ones, so that the display looks like a real directory.

var (
	girls = []string{
		"Léa", "Manon", "Camille", "Chloé", "Laura", "Marine", "Julie", "Pauline", "Sarah", "Marion",
		"Océane", "Morgane", "Mélanie", "Emma", "Clara", "Anaïs", "Lucie", "Justine", "Margaux", "Inès",
		"Charlotte", "Élodie", "Audrey", "Émilie", "Amandine", "Célia", "Mathilde", "Solène", "Jade", "Yasmine",
	}
	boys = []string{
		"Thomas", "Nicolas", "Maxime", "Kevin", "Alexandre", "Romain", "Quentin", "Lucas", "Hugo", "Julien",
		"Florian", "Anthony", "Jérémy", "Mathieu", "Clément", "Dylan", "Antoine", "Benjamin", "Guillaume", "Théo",
		"Adrien", "Valentin", "Bastien", "Loïc", "Mehdi", "Yanis", "Baptiste", "Paul", "Victor", "Rémi",
	}
	adultWomen = []string{
		"Sylvie", "Nathalie", "Isabelle", "Catherine", "Valérie", "Christine", "Sandrine", "Véronique", "Corinne", "Martine",
		"Florence", "Laurence", "Sophie", "Karine", "Brigitte", "Patricia", "Hélène", "Anne", "Fatima", "Agnès",
	}
	adultMen = []string{
		"Philippe", "Christophe", "Patrick", "Pascal", "Éric", "Thierry", "Frédéric", "Laurent", "Olivier", "Stéphane",
		"Didier", "Jean-Marc", "Bruno", "Gilles", "Alain", "Marc", "Hervé", "Serge", "Karim", "Bernard",
	}
	surnames = []string{
		"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
		"Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Fabre", "Roux", "Blanc", "Fournier", "Girard",
		"Bonnet", "Rossi", "Arnaud", "Brun", "Gauthier", "Mercier", "Chevalier", "Martinez", "Lopez", "Olivier",
		"Reynaud", "Mouret", "Pellegrin", "Imbert", "Giraud", "Jourdan", "Bertrand", "Pons", "Aubert", "Sauvan",
		"Bonnefoy", "Meyer", "Ferrand", "Barthélemy", "Ricard", "Estienne", "Chabert", "Castel", "Benali", "Nguyen",
		"Amrani", "Santoro", "Ferrari", "Mistral", "Audibert", "Roumanille", "Gras", "Tardieu", "Escoffier", "Maurel",
	}
	partners = []string{
		"Association sportive (UNSS)", "Foyer socio-éducatif", "FCPE, conseil local", "PEEP, section locale",
		"Médiathèque municipale", "Service jeunesse de la mairie", "Conseil général, service éducation",
		"Club de rugby, section scolaire", "Compagnie de théâtre partenaire", "CIO, conseillère d'orientation",
		"Mission locale", "Office de tourisme, projet patrimoine", "Association de prévention routière",
		"Intervenant en arts plastiques", "Chambre de métiers, stages",
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// childName returns a student's first and last names.
func childName(r *rand.Rand) (first, last string) {
	if r.IntN(2) == 0 {
		return pick(r, girls), pick(r, surnames)
	}
	return pick(r, boys), pick(r, surnames)
}

// adultName returns a civility and an adult's first name.
func adultName(r *rand.Rand) (civ, first string) {
	if r.IntN(2) == 0 {
		return "Mme", pick(r, adultWomen)
	}
	return "M.", pick(r, adultMen)
}

func functionTitle(f string, college bool) string {
	switch f {
	case "head":
		if college {
			return "principal"
		}
		return "proviseur"
	case "deputy":
		if college {
			return "principal adjoint"
		}
		return "proviseur adjoint"
	case "cpe":
		return "CPE"
	case "secretary":
		return "secrétariat vie scolaire"
	}
	return "intendance"
}

var (
	declaredReasons = []string{
		"Malade, fièvre depuis hier soir.", "Rendez-vous chez le dentiste.", "Rendez-vous chez l'orthodontiste.",
		"Gastro, il reste à la maison aujourd'hui.", "Le car n'est pas passé ce matin.", "Obsèques d'un grand-parent.",
		"Rendez-vous médical (certificat remis au carnet).", "Problème familial, je vous appellerai.",
		"Panne de voiture, pas de moyen de l'amener.", "Convocation pour la journée d'appel (JAPD).",
		"Réveil en retard, désolée.", "Départ en vacances anticipé.",
	}
	cancelReasons = []string{
		"Erreur de saisie : élève présent.", "Élève arrivé juste après l'appel.", "Élève au CDI avec autorisation.",
		"Élève à l'infirmerie.", "Élève en sortie pédagogique avec une autre classe.",
	}
	refusalComments = []string{
		"Motif non recevable, voir le règlement intérieur.", "Convenance personnelle.", "Justificatif non fourni.",
	}
	punishmentReasons = []string{
		"Travail non fait à plusieurs reprises.", "Bavardages incessants malgré les avertissements.",
		"Insolence envers le professeur.", "Oubli répété du matériel.", "Téléphone portable utilisé en classe.",
		"Perturbation du cours.", "Copie sur un camarade pendant le contrôle.", "Retards répétés.",
		"Refus de travailler.", "Comportement dangereux en TP.",
	}
	sanctionReasons = []string{
		"Violence verbale envers un camarade.", "Bagarre dans la cour.", "Insultes envers un adulte.",
		"Dégradation de matériel.", "Absentéisme persistant.", "Accumulation de punitions.",
		"Vol dans les vestiaires.", "Harcèlement d'un camarade.", "Fraude lors d'un devoir commun.",
	}
	annulReasons = []string{
		"Recours gracieux de la famille accepté.", "Erreur sur l'élève concerné.", "Sanction remplacée par une mesure de réparation.",
	}
	places = []string{
		"Cour de récréation", "Couloir du premier étage", "Cantine", "Préau", "Gymnase", "Vestiaires",
		"Abords de l'établissement", "Salle 112", "CDI", "Escalier B", "Arrêt de car",
	}
	incidentDescriptions = []string{
		"Bousculade violente entre deux élèves.", "Échange d'insultes suivi de coups.", "Dégradation d'une porte.",
		"Vol d'un téléphone portable.", "Menaces envers un camarade.", "Jet de projectiles.",
		"Refus d'obtempérer face à un surveillant.", "Départ de feu dans une poubelle.", "Racket signalé par un élève.",
	}
)

// homeworkText returns instructions for a homework in subject.
func homeworkText(r *rand.Rand, subj string) string {
	switch subj {
	case "Mathématiques", "Soutien maths", "Aide individualisée maths":
		return fmt.Sprintf("Exercices %d et %d page %d.", 10+r.IntN(40), 50+r.IntN(40), 20+r.IntN(200))
	case "Français":
		return fillf(r, pick(r, []string{
			"Lire le chapitre %d et répondre aux questions.", "Rédaction : raconter un souvenir (%d lignes).",
			"Apprendre la poésie, strophes 1 à %d.", "Relire la scène %d et relever les didascalies.",
		}))
	case "Anglais", "Espagnol", "Allemand", "Italien":
		return fmt.Sprintf("Apprendre le vocabulaire de la leçon %d ; exercice %d du cahier.", 1+r.IntN(12), 1+r.IntN(9))
	case "Histoire-géographie":
		return fmt.Sprintf("Apprendre la leçon ; croquis page %d.", 40+r.IntN(200))
	}
	return fmt.Sprintf("Revoir le cours et faire l'exercice %d.", 1+r.IntN(20))
}

// fillf fills the %d verbs of a template with small numbers.
func fillf(r *rand.Rand, s string) string {
	var args []any
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 'd' {
			args = append(args, 2+r.IntN(18))
		}
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

var (
	lessonContents = []string{
		"Correction du contrôle ; début du chapitre suivant.", "Cours : définitions et exemples.",
		"Travaux pratiques en groupes.", "Exposés d'élèves.", "Étude de document et synthèse.",
		"Exercices d'application ; bilan de séance.", "Évaluation écrite de 30 minutes.",
	}
	messageSubjects = map[string][]string{
		"teacher": {
			"Devoir surveillé de mardi", "Sortie pédagogique", "Conseil de classe", "Copies à rendre",
			"Projet de classe", "Remplacement de cours", "Matériel pour le TP", "Réunion d'équipe",
		},
		"personnel": {
			"Réunion parents-professeurs", "Convocation", "Absences non justifiées", "Photo de classe",
			"Inscriptions à la cantine", "Calendrier des conseils de classe", "Exercice d'évacuation", "Bourses",
		},
		"student": {
			"Devoirs de maths", "Exposé", "Cours d'aujourd'hui", "Question sur le DS", "Sortie UNSS", "Club théâtre",
		},
		"relative": {
			"Absence de mon enfant", "Demande de rendez-vous", "Question sur les devoirs", "Retard du car",
			"Dispense d'EPS", "Résultats du trimestre",
		},
	}
	newsTitles = []string{
		"Réunion parents-professeurs des %de", "Résultats du cross du collège", "Menu de la semaine",
		"Sortie au musée", "Voyage en Espagne : informations", "Portes ouvertes le samedi %d",
		"Inscriptions à l'association sportive", "Conseil d'administration du %d", "Semaine de la presse à l'école",
		"Concours de mathématiques : bravo !", "Fermeture exceptionnelle du CDI", "Exposition au CDI",
		"Élection des délégués", "Forum des métiers", "Brevet blanc : calendrier", "Bac blanc : convocations",
		"Collecte pour les Restos du cœur", "Spectacle de fin d'année", "Journée sans voiture", "Photos de classe",
	}
	bookingPurposes = []string{
		"Recherche documentaire", "TP informatique", "Projection d'un film", "Exposés", "B2i",
		"Réunion", "Devoir commun", "Atelier", "Conseil de classe",
	}
	refusalReasons = []string{
		"Salle déjà réservée pour un examen.", "Travaux prévus ce jour-là.", "Priorité au conseil de classe.",
	}
)
