package domain

import "github.com/google/uuid"

// LessonContentRecorded fills the cahier de textes for a lesson; stored on
// the lesson's stream. A later one replaces the content.
type LessonContentRecorded struct {
	Lesson  uuid.UUID `json:"lesson"`
	Group   uuid.UUID `json:"group"`
	Date    Date      `json:"date"`
	Slot    Slot      `json:"slot"`
	Subject string    `json:"subject"`
	Content string    `json:"content"`
}

func (LessonContentRecorded) EventType() string { return "lesson.content_recorded.v1" }

// HomeworkAssigned gives homework to a group, set on Given, due on Due.
type HomeworkAssigned struct {
	Homework        uuid.UUID `json:"homework"`
	Group           uuid.UUID `json:"group"`
	Subject         string    `json:"subject"`
	Given           Date      `json:"given"`
	Due             Date      `json:"due"`
	Instructions    string    `json:"instructions"`
	WorkloadMinutes int       `json:"workload_minutes"`
}

func (HomeworkAssigned) EventType() string { return "homework.assigned.v1" }

// HomeworkAmended changes a homework's due date, instructions or workload.
type HomeworkAmended struct {
	Homework        uuid.UUID `json:"homework"`
	Group           uuid.UUID `json:"group"`
	Due             Date      `json:"due"`
	Instructions    string    `json:"instructions"`
	WorkloadMinutes int       `json:"workload_minutes"`
}

func (HomeworkAmended) EventType() string { return "homework.amended.v1" }

// HomeworkWithdrawn withdraws a homework.
type HomeworkWithdrawn struct {
	Homework uuid.UUID `json:"homework"`
	Group    uuid.UUID `json:"group"`
}

func (HomeworkWithdrawn) EventType() string { return "homework.withdrawn.v1" }

// HomeworkDone is a student marking a homework done.
type HomeworkDone struct {
	Homework uuid.UUID `json:"homework"`
	Group    uuid.UUID `json:"group"`
	Student  uuid.UUID `json:"student"`
}

func (HomeworkDone) EventType() string { return "homework.done.v1" }
