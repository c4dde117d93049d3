package bus

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// PublishObserver is told of each publish: how many messages, how long it
// took, and its error (`serve` measures the bus's latency with it).
type PublishObserver func(messages int, d time.Duration, err error)

// Timed returns pub with every Publish timed and told to observe.
func Timed(pub message.Publisher, observe PublishObserver) message.Publisher {
	if observe == nil {
		return pub
	}
	return &timedPublisher{Publisher: pub, observe: observe}
}

type timedPublisher struct {
	message.Publisher
	observe PublishObserver
}

func (p *timedPublisher) Publish(topic string, msgs ...*message.Message) error {
	start := time.Now()
	err := p.Publisher.Publish(topic, msgs...)
	p.observe(len(msgs), time.Since(start), err)
	return err
}
